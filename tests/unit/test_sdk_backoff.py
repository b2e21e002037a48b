"""The SDK's retry schedule and Retry-After parsing."""
from oddlytics.backoff import MAX_RETRY_AFTER, Backoff, parse_retry_after


def test_ceiling_doubles_from_base_up_to_cap():
    backoff = Backoff(base=0.5, cap=30.0)
    assert [backoff.ceiling(n) for n in range(1, 10)] == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]


def test_jitter_spans_half_to_full_ceiling():
    assert Backoff(base=1, cap=60, rng=lambda: 0.0).delay(4) == 4.0
    assert Backoff(base=1, cap=60, rng=lambda: 1.0).delay(4) == 8.0
    assert Backoff(base=1, cap=60, rng=lambda: 0.5).delay(4) == 6.0


def test_huge_attempt_numbers_stay_at_the_cap():
    assert Backoff(base=0.5, cap=30.0, rng=lambda: 1.0).delay(10_000) == 30.0


def test_retry_after_overrides_backoff_but_is_bounded():
    backoff = Backoff(base=0.5, cap=30.0, rng=lambda: 1.0)
    assert backoff.delay(1, retry_after=42.0) == 42.0
    assert backoff.delay(1, retry_after=10 * MAX_RETRY_AFTER) == MAX_RETRY_AFTER


def test_retry_after_seconds_and_http_dates():
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412480) == 30.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480 + 60) == 0.0


def test_unreadable_retry_after_is_ignored():
    assert [parse_retry_after(v) for v in (None, "", "soon", "-5", "1.5e3")] == [None] * 5
