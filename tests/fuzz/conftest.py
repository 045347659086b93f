"""The fuzz suite's hypothesis profile: few examples, no per-example deadline, so each
property takes a few seconds (``--hypothesis-profile=eerest-thorough`` for a long run)."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile(
    "eerest-fuzz",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=True,
)
settings.register_profile("eerest-thorough", max_examples=5000, deadline=None)
settings.load_profile("eerest-fuzz")
