"""Timeline bucket counts are arithmetic: a century of hours is refused before any list is built."""
import pytest

from errors import BadRequest
from api.params import Scope
from api.params import bucket_count, check_bucket_count

NOW_MS = 1_764_158_400_000  # 2025-11-26T12:00:00Z


def test_bucket_count_is_arithmetic():
    assert bucket_count(0, 36600 * 86400, 3600) == 878_400
    assert bucket_count(1800, 7200, 3600) == 2 and bucket_count(7200, 7200, 3600) == 0


@pytest.mark.parametrize("interval,days,allowed", [("hour", "31", True), ("hour", "36600", False),
                                                   ("day", "3659", True), ("day", "36600", False)])
def test_too_many_buckets_is_a_400(interval, days, allowed):
    scope = Scope({"days": days}, NOW_MS)
    if allowed:
        check_bucket_count(scope, interval)
    else:
        with pytest.raises(BadRequest):
            check_bucket_count(scope, interval)
