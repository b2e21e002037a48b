"""The demo generator: deterministic, plausible, and acceptable to the worker's validation."""
import json
from collections import Counter
from datetime import datetime, timedelta, timezone

from scripts.demo import BATCH, generate
from validation import parse_track_body

NOW = datetime(2024, 5, 20, 15, 30, tzinfo=timezone.utc)


def test_same_seed_and_day_give_the_same_events():
    assert generate(seed=3, now=NOW) == generate(seed=3, now=NOW)
    assert generate(seed=3, now=NOW) != generate(seed=4, now=NOW)


def test_events_span_the_last_30_days_and_never_the_future():
    events = generate(now=NOW)
    stamps = [datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00")) for e in events]
    assert NOW - timedelta(days=30) < min(stamps) and max(stamps) <= NOW
    assert stamps == sorted(stamps)


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
    events = generate(now=NOW)
    now_ms = int(NOW.timestamp() * 1000)
    for offset in range(0, len(events), BATCH):
        rows, duplicates = parse_track_body(json.dumps({"events": events[offset:offset + BATCH]}), now_ms)
        assert len(rows) == min(BATCH, len(events) - offset) and duplicates == 0
