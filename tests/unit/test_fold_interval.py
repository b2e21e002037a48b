"""FOLD_EVERY_MINUTES (api/config.py): how often events are counted into the statistics, without a worker."""
from api import config
from rollups.fold import FoldState, nothing_to_fold


def test_the_fold_interval_defaults_to_an_hour_and_refuses_nothing_it_cannot_read():
    assert config.fold_every_minutes(None) == 60
    assert config.fold_every_minutes("15") == 15
    assert config.fold_every_minutes("0") == 0  # every read folds what is new (local tools)
    assert config.fold_every_minutes("1440") == 1440
    for unreadable in ("1441", "-5", "ten", "", "９", "1" * 5000):
        assert config.fold_every_minutes(unreadable) == 60, unreadable


def test_reads_fold_what_was_received_before_the_interval_they_are_in():
    hour = config.Settings({}, fold_every_minutes=60)
    at = 1_765_000_000_000 + 123_456  # 2025-12-06T05:46:40.000Z + 2 min 3.456 s
    assert hour.fold_received_before(at) == at - at % 3_600_000
    assert hour.fold_received_before(at) % 3_600_000 == 0 and at - hour.fold_received_before(at) < 3_600_000
    assert config.Settings({}, fold_every_minutes=5).fold_received_before(at) == at - at % 300_000
    assert config.Settings({}, fold_every_minutes=0).fold_received_before(at) is None


def test_a_read_batches_its_statements_with_the_fold_state_only_when_it_has_nothing_to_fold():
    hour_start = 1_765_000_000_000 - 1_765_000_000_000 % 3_600_000
    folded = FoldState(folded=100, version=7, last_id=100, stale=False)
    tail = FoldState(folded=100, version=7, last_id=130, stale=False)
    assert nothing_to_fold(folded, None, hour_start) and nothing_to_fold(folded, None)
    # A tail received since the interval began waits for the next fold; one received before it is folded now.
    assert nothing_to_fold(tail, hour_start + 1, hour_start) and nothing_to_fold(tail, hour_start, hour_start)
    assert not nothing_to_fold(tail, hour_start - 1, hour_start)
    # Without an interval (FOLD_EVERY_MINUTES=0) every tail is folded; stale sketches are always rebuilt first.
    assert not nothing_to_fold(tail, hour_start + 1, None)
    assert not nothing_to_fold(folded._replace(stale=True), None, hour_start)
