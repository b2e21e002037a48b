"""The short soak: 4 SDK clients, one SIGKILL and restart of a worker of its own, nothing lost or doubled.

`make soak` runs the full one (16 clients, 50,000 events, 2 restarts) and prints its figures.
"""
from scripts.soak import run_soak


def test_events_survive_a_killed_worker_exactly_once(tmp_path):
    result = run_soak(tmp_path, clients=4, events=600, restarts=1, say=lambda line: None)
    assert result.restarts == 1
    assert (result.tracked, result.stored) == (600, 600)
    assert (result.lost, result.duplicated, result.unexpected) == (0, 0, 0)
    assert result.rollup_events == 600
