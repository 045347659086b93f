"""Pure retry decisions: whether to retry, and how long to wait.

Defaults follow google-api-core (exponential backoff from 1 s, doubling, capped at
60 s; retry 429 and 5xx) with the full jitter Stainless clients (openai-python) use, and
honour ``Retry-After`` up to the cap.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["RETRYABLE_STATUS", "RetryPolicy", "parse_retry_after"]

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 3
    initial_delay: float = 1.0
    max_delay: float = 60.0
    multiplier: float = 2.0

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
        ceiling = min(self.max_delay, self.initial_delay * self.multiplier**attempt)
        return (rand or random).uniform(0, ceiling)


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if "retry-after-ms" in lowered:
        try:
            return float(lowered["retry-after-ms"]) / 1000
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        parsed = email.utils.parsedate_tz(value)
        if parsed is None:
            return None
        return max(0.0, email.utils.mktime_tz(parsed) - (time.time() if now is None else now))
