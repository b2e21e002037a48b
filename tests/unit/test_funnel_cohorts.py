"""Pure parts of /stats/funnel and /stats/retention."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from routes.retention import LocalClock, cohort_figures, cohort_keys, period_start
from errors import BadRequest
from routes.funnel import step_json, steps_param, walk, walk_from_previous
from tz.localtime import offset_segments

MIN = 60_000


def test_walk_enters_at_the_first_step_and_takes_the_earliest_next_step():
    opened = [("u1", 0, 1), ("u1", 5 * MIN, 2), ("u2", MIN, 3)]
    browsed = [("u2", 0, 4), ("u1", 2 * MIN, 5), ("u1", 3 * MIN, 6), ("u2", 4 * MIN, 7)]
    # u1 enters at 0 (not 5 min), browses at 2 min; u2's first Browse is before its Open, its second counts.
    assert walk([opened, browsed], 10 * MIN, 60 * MIN) == [(2, None), (2, 2.5 * MIN)]


def test_walk_breaks_ties_on_the_id_and_keeps_the_window_from_entering():
    same_ms = [("u", 100, 7)]
    assert walk([same_ms, [("u", 100, 6)]], 1000, MIN) == [(1, None), (0, None)]
    assert walk([same_ms, [("u", 100, 8)]], 1000, MIN) == [(1, None), (1, 0)]
    # Step 3 is measured from entering: 40 + 30 min is past a 1 h window.
    steps = [[("u", 0, 1)], [("u", 40 * MIN, 2)], [("u", 70 * MIN, 3)]]
    assert walk(steps, MIN, 60 * MIN) == [(1, None), (1, 40 * MIN), (0, None)]


HOUR_MS = 60 * MIN


def test_the_two_window_rules_on_the_issue_19_example():
    """A at 10:00, B 20 h later, C 40 h later, a 1-day window: from the first step C is too late (the API gave
    [1, 1, 0]); from the step before, B and C each come 20 h after the one before."""
    steps = [[("u", 10 * HOUR_MS, 1)], [("u", 30 * HOUR_MS, 2)], [("u", 50 * HOUR_MS, 3)]]
    assert [n for n, _ in walk(steps, 11 * HOUR_MS, 24 * HOUR_MS)] == [1, 1, 0]
    assert walk_from_previous(steps, 11 * HOUR_MS, 24 * HOUR_MS) == [(1, None), (1, 20 * HOUR_MS), (1, 20 * HOUR_MS)]


def test_from_the_previous_step_a_later_match_can_be_the_one_that_continues():
    """A at 0, B at 1 and 2, C at 3.5, window 2: the earliest B (1) leaves C out of reach, B at 2 does not."""
    steps = [[("u", 0, 1)], [("u", 1 * MIN, 2), ("u", 2 * MIN, 3)], [("u", 3.5 * MIN, 4)]]
    assert walk_from_previous(steps, MIN, 2 * MIN) == [(1, None), (1, MIN), (1, 1.5 * MIN)]
    assert [n for n, _ in walk(steps, MIN, 2 * MIN)] == [1, 1, 0]


def test_from_the_previous_step_order_ties_and_gaps_still_count():
    # B before A does not count; the same ms with a lower id does not either; a step past the window breaks it.
    assert walk_from_previous([[("u", 100, 5)], [("u", 50, 6), ("u", 100, 4)]], 1000, MIN) == [(1, None), (0, None)]
    assert walk_from_previous([[("u", 100, 5)], [("u", 100, 6)], [("u", 100 + MIN + 1, 7)]], 1000, MIN) == [
        (1, None), (1, 0), (0, None)]
    # Several entities, interleaved; the repeated step name reuses the same rows.
    rows = [("a", 0, 1), ("b", 10, 2), ("a", 20, 3), ("b", 90, 4)]
    assert [n for n, _ in walk_from_previous([rows, rows], 50, 60)] == [2, 1]


def test_walk_ignores_entries_after_the_range_in_rows_ordered_per_entity_only():
    assert walk([[("u", 500, 1)], [("u", 600, 2)]], 500, MIN) == [(0, None), (0, None)]
    # App by app: the first app's rows run past the range's end before the second app's begin.
    opened = [("a1:s", 100, 1), ("a1:s", 900, 2), ("a2:s", 200, 3)]
    assert walk([opened, [("a2:s", 300, 4)]], 500, MIN) == [(2, None), (1, 100)]


def test_step_json_conversions_and_an_empty_funnel():
    steps = step_json(["A", "B"], [(3, None), (1, 1500)])
    assert steps[1] == {"event": "B", "count": 1, "conversion_from_first": 0.3333,
                        "conversion_from_previous": 0.3333, "median_s_from_previous": 1.5}
    assert step_json(["A", "B"], [(0, None), (0, None)])[1]["conversion_from_first"] is None


@pytest.mark.parametrize("lists, names", [
    ({"steps": ["A,B,C"]}, ["A", "B", "C"]),
    ({"step": ["A, with comma", "B"]}, ["A, with comma", "B"]),
])
def test_steps_param(lists, names):
    assert steps_param(lists) == names


@pytest.mark.parametrize("lists", [{}, {"steps": ["A"]}, {"steps": ["A,B,C,D,E,F,G"]}, {"steps": ["A,"]},
                                   {"steps": ["A,B"], "step": ["A", "B"]}, {"steps": ["A,B", "C,D"]},
                                   {"step": ["A", "x" * 256]}, {"step": ["A", "B\x00"]}])
def test_steps_param_refuses(lists):
    with pytest.raises(BadRequest):
        steps_param(lists)


def utc(text):
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp())


def test_period_start_sunday_weeks():
    assert period_start(utc("2024-10-27T23:59:59"), "week", "sunday") == utc("2024-10-27T00:00:00")  # a Sunday
    assert period_start(utc("2024-10-26T23:59:59"), "week", "sunday") == utc("2024-10-20T00:00:00")  # a Saturday
    assert period_start(utc("2024-10-27T10:00:00"), "day", "sunday") == utc("2024-10-27T00:00:00")


def test_period_start_days_and_monday_weeks():
    assert period_start(utc("2024-10-27T23:59:59"), "day") == utc("2024-10-27T00:00:00")
    assert period_start(utc("2024-10-27T23:59:59"), "week") == utc("2024-10-21T00:00:00")  # a Sunday
    assert period_start(utc("2024-10-28T00:00:00"), "week") == utc("2024-10-28T00:00:00")  # a Monday


class Berlin:
    name = "Europe/Berlin"
    zone = ZoneInfo("Europe/Berlin")

    def offset_at(self, seconds):
        return int(datetime.fromtimestamp(seconds, tz=self.zone).utcoffset().total_seconds())


def test_local_clock_across_fall_back():
    clock = LocalClock(offset_segments(Berlin(), utc("2024-10-26T00:00:00"), utc("2024-10-29T00:00:00")))
    assert clock.local(utc("2024-10-27T00:30:00")) == utc("2024-10-27T02:30:00")  # CEST
    assert clock.local(utc("2024-10-27T01:30:00")) == utc("2024-10-27T02:30:00")  # CET, the repeated hour
    keys = cohort_keys(clock, utc("2024-10-26T22:00:00"), utc("2024-10-28T23:00:00"), "day")
    assert keys == [utc("2024-10-27T00:00:00"), utc("2024-10-28T00:00:00")]


def test_cohort_figures_count_each_user_once_per_period_and_null_the_unfinished():
    day = 86400
    first_seen = {"a": 10, "b": day + 10}
    active = [("a", 10), ("a", 20), ("a", day + 5), ("b", day + 10), ("stranger", 30), ("a", 9 * day)]
    cohorts = cohort_figures(first_seen, active, [0, day], "day", 3, complete_before=3 * day)
    assert [(c["start"], c["size"], c["retained_users"], c["retained"]) for c in cohorts] == [
        ("1970-01-01", 1, [1, 1, 0], [1.0, 1.0, 0.0]),
        ("1970-01-02", 1, [1, 0, None], [1.0, 0.0, None]),
    ]


def test_json_batches_stay_under_the_byte_budget_and_keep_every_value():
    import json

    from rollups.raw_events import json_batches

    values = [f"user-{i}" for i in range(50)] + ["\x01" * 255, "é" * 10]
    batches = json_batches(values, max_bytes=200)
    assert all(len(batch.encode("utf-8")) <= 200 for batch in batches if len(json.loads(batch)) > 1)
    assert [value for batch in batches for value in json.loads(batch)] == values
    assert json_batches([]) == []


def test_slices_cover_every_value_in_order():
    from rollups.raw_events import MAX_BOUND, slice_bounds

    pieces = slice_bounds(0, 80, slices=4)
    assert pieces == [(-MAX_BOUND, 20), (20, 40), (40, 60), (60, MAX_BOUND)]
    assert slice_bounds(5, 5, slices=2) == [(-MAX_BOUND, 6), (6, MAX_BOUND)]
