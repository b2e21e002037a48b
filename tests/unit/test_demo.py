"""The demo generator: deterministic, plausible, and acceptable to the worker's validation."""
import json
from collections import Counter
from datetime import datetime, timedelta, timezone

from scripts.demo import BATCH, generate
from api.validation import MAX_BATCH, parse_track_body

NOW = datetime(2024, 5, 20, 15, 30, tzinfo=timezone.utc)


def test_same_seed_and_day_give_the_same_events():
    assert generate(seed=3, now=NOW) == generate(seed=3, now=NOW)
    assert generate(seed=3, now=NOW) != generate(seed=4, now=NOW)


def test_events_span_60_days_so_the_default_30_day_view_has_a_previous_period():
    events = generate(now=NOW)
    stamps = [datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00")) for e in events]
    assert NOW - timedelta(days=60) < min(stamps) < NOW - timedelta(days=59) and max(stamps) <= NOW
    assert stamps == sorted(stamps)
    previous = sum(NOW - timedelta(days=60) < s <= NOW - timedelta(days=30) for s in stamps)
    assert len(events) / 3 < previous < len(events) * 2 / 3


def test_a_later_run_the_same_day_repeats_every_event_and_id_so_make_demo_is_idempotent():
    earlier = generate(now=NOW)
    assert generate(now=NOW + timedelta(hours=6))[:len(earlier)] == earlier


def test_three_apps_hundreds_of_users_and_a_few_purchases():
    events = generate(now=NOW)
    names = Counter(e["event"] for e in events)
    assert sorted({e["app_id"] for e in events}) == ["focus-timer", "habit-tracker", "recipe-box"]
    assert 200 <= len({e["user_id"] for e in events}) <= 500
    assert names["App Opened"] == len({(e["app_id"], e["session_id"]) for e in events})
    assert 0 < names["Purchase"] < names["Screen Viewed"]


def test_weekend_rhythm_differs_by_app():
    events = generate(now=NOW)
    weekend_share = {}
    for app in ("focus-timer", "recipe-box"):
        days = [datetime.fromisoformat(e["timestamp"][:19]).weekday() for e in events if e["app_id"] == app]
        weekend_share[app] = sum(d >= 5 for d in days) / len(days)
    assert weekend_share["focus-timer"] < 2 / 7 < weekend_share["recipe-box"]


def test_every_batch_passes_the_workers_validation():
    assert BATCH <= MAX_BATCH
    events = generate(now=NOW)
    now_ms = int(NOW.timestamp() * 1000)
    for offset in range(0, len(events), BATCH):
        rows, duplicates = parse_track_body(json.dumps({"events": events[offset:offset + BATCH]}), now_ms)
        assert len(rows) == min(BATCH, len(events) - offset) and duplicates == 0


def test_demo_has_groups_a_paywall_funnel_and_returning_users():
    events = generate(now=NOW)
    assert {e["properties"].get("group") for e in events} >= {"onboarding", "monetisation", "navigation", "core", None}
    by_session = {}
    for e in events:
        by_session.setdefault((e["app_id"], e["session_id"]), []).append(e["event"])
    steps = ["Paywall Viewed", "Plan Selected", "Purchase"]
    reached = Counter()
    for names in by_session.values():
        flow = [n for n in names if n in steps]
        assert flow == steps[:len(flow)]  # in order, each step after the one before
        reached[len(flow)] += 1
    at_least = [sum(n for length, n in reached.items() if length >= step) for step in (1, 2, 3)]
    assert at_least[0] > at_least[1] > at_least[2] > 0  # drop-off at each step
    days_of = {}
    for e in events:
        days_of.setdefault(e["user_id"], set()).add(e["timestamp"][:10])
    assert sum(len(days) > 1 for days in days_of.values()) > len(days_of) / 2  # most users come back
