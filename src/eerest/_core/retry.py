"""Pure retry decisions: whether to retry, and how long to wait.

Defaults: 5 retries, exponential backoff from 1 s, doubling, capped at 60 s (google-api-core's
``exponential_sleep_generator(1.0, 60.0, 2.0)``), each wait 75-100 % of its nominal value
(openai-python's jitter), ``Retry-After`` honoured up to the cap; retry 429 and 5xx.

Why these: eerest's calls are mostly parts of long reads (``read_area`` tiles, dask chunks)
where a failure costs far more than a wait, and every call has a deadline (30 min by default)
bounding the sum. google-api-core retries until its deadline; openai-python makes 2 retries
(interactive latency first). Full jitter (uniform in [0, nominal]) could spend all of a call's
retries within a fraction of a second; with 75-100 % the waits add up to at least
0.75 + 1.5 + 3 + 6 + 12 = 23.25 s (at most 31 s), so a server restart (a few seconds) or
a load-balancer failover rides through, while a persistent failure still surfaces within
about half a minute.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eerest._core.spec import MethodSpec

__all__ = ["RETRYABLE_STATUS", "RetryPolicy", "is_read", "parse_retry_after"]

_READ_VERBS = ("get", "list", "compute", "search", "value", "batchGet")

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5
    initial_delay: float = 1.0
    max_delay: float = 60.0
    multiplier: float = 2.0
    jitter: float = 0.25  # each wait is (1 - jitter) to 1 times its nominal value

    def should_retry_status(self, status_code: int, attempt: int) -> bool:
        """``attempt`` counts retries already made (0 for the first request)."""
        return attempt < self.max_retries and status_code in RETRYABLE_STATUS

    def should_retry_error(self, attempt: int) -> bool:
        """Connection errors and timeouts: retried like 503s."""
        return attempt < self.max_retries

    def delay(
        self, attempt: int, headers: Mapping[str, str] | None = None, rand: random.Random | None = None
    ) -> float:
        """Seconds to wait before retry number ``attempt + 1``."""
        retry_after = parse_retry_after(headers or {})
        if retry_after is not None and 0 <= retry_after <= self.max_delay:
            return retry_after
        nominal = min(self.max_delay, self.initial_delay * self.multiplier**attempt)
        return nominal * (1.0 - self.jitter * (rand or random).random())


def is_read(spec: MethodSpec[Any]) -> bool:
    """Whether sending ``spec`` again cannot change anything on the server, so a response
    cut off mid-body may be fetched again: GETs, downloads, list methods and the
    ``get*``/``compute*``/... methods (every Earth Engine method eerest emits)."""
    if spec.http_method in ("GET", "HEAD") or spec.binary_response or spec.pagination is not None:
        return True
    verb = spec.id.rsplit(".", 1)[-1]
    return verb.startswith(_READ_VERBS)


def _seconds(value: str) -> float | None:
    try:
        seconds = float(value)
    except (ValueError, OverflowError):
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date);
    ``None`` when absent or not a finite, non-negative time."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if "retry-after-ms" in lowered:
        ms = _seconds(lowered["retry-after-ms"])
        if ms is not None:
            return ms / 1000
    value = lowered.get("retry-after")
    if value is None:
        return None
    seconds = _seconds(value)
    if seconds is not None:
        return seconds
    try:
        import email.utils

        parsed = email.utils.parsedate_tz(value)
        if parsed is None:
            return None
        return max(0.0, email.utils.mktime_tz(parsed) - (time.time() if now is None else now))
    except (ValueError, OverflowError, IndexError, TypeError):
        return None
