"""How distinct users are counted is decided before any D1 call, so the overview can batch two periods' queries."""
from api.params import Scope
from rollups.read import EXACT_USERS_MAX, DistinctUsers
from tz.timeutil import DAY, HOUR

NOW_MS = 1_765_000_000_000
START = 1_764_000_000 - 1_764_000_000 % DAY


def totals(buckets, apps=("a",), exact_rows=None):
    return {app: {"events": 10, "sessions": 2, "user_buckets": buckets,
                  "exact_rows": buckets if exact_rows is None else exact_rows} for app in apps}


def plan(buckets, start=START, end=START + 7 * DAY, app_id="a", by_app=False, exact_rows=None):
    scope = Scope({"app_id": app_id} if app_id else {}, NOW_MS)
    return DistinctUsers(scope, start, end, totals(buckets, exact_rows=exact_rows), by_app)


def test_no_users_and_one_whole_day_of_one_app_need_no_query():
    assert plan(0).query is None and plan(0).answer() == ({"a": 0}, False)
    one_day = plan(40, end=START + DAY)
    assert one_day.query is None and not one_day.needs_horizon
    assert one_day.answer() == ({"a": 40}, False)


def test_few_user_buckets_count_exactly_unless_the_range_starts_before_the_purge_horizon():
    few = plan(EXACT_USERS_MAX)
    assert few.needs_horizon and few.query is None
    assert few.decide(START).kind == "exact" and "COUNT(DISTINCT user_id)" in few.query.text
    assert few.answer([{"app_id": "a", "users": 7}]) == ({"a": 7}, False)
    purged = plan(EXACT_USERS_MAX).decide(START + HOUR)
    assert purged.kind == "sketch" and "sketch" in purged.query.text


def test_many_user_buckets_read_sketches_without_asking_the_horizon():
    many = plan(EXACT_USERS_MAX + 1)
    assert not many.needs_horizon and many.kind == "sketch"
    users, approximate = many.answer([])
    assert users == {"a": 0} and approximate


def test_what_the_exact_count_would_read_decides_not_the_ranges_own_user_hours():
    """The last 24 hours hold few user-hours, but counting them exactly reads the two whole days holding them
    (`exact_rows`, from counter_totals_query): past EXACT_USERS_MAX of those, sketches answer."""
    last_day = (START + 7 * DAY + 5 * HOUR, START + 8 * DAY + 5 * HOUR)
    assert plan(2_000, *last_day, exact_rows=EXACT_USERS_MAX).needs_horizon
    costly = plan(2_000, *last_day, exact_rows=EXACT_USERS_MAX + 1)
    assert not costly.needs_horizon and costly.kind == "sketch"
