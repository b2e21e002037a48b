"""Step sizes that follow what a step costs (rollups/steps.py): the rule, without a worker."""
from rollups import steps

MAXIMUM, TARGET = 5000, 2000  # an erasure's maximum, the default target


def next_size(stored, tried, used, done, elapsed_ms):
    return steps.next_size(stored, tried, used, done, elapsed_ms, MAXIMUM, TARGET)


def test_a_slow_step_makes_the_next_smaller_in_proportion():
    assert next_size(5000, 5000, 5000, 5000, 14_000) == 714  # 5,000 events of 50 properties: 14 s locally
    assert next_size(714, 714, 714, 714, 2_100) == 680
    assert next_size(1, 1, 1, 1, 60_000) == 1  # never below one event


def test_a_slow_step_of_few_events_is_judged_by_those():
    assert next_size(1000, 1000, 1000, 100, 4_000) == 50  # 100 events took 4 s: 40 ms each
    assert next_size(1000, 1000, 1000, 0, 4_000) == 1  # nothing matched, and still slow


def test_a_step_d1_refused_restarts_where_it_passed():
    assert next_size(5000, 5000, 1250, 1250, 900) == 1250
    assert next_size(5000, 5000, 78, 78, 9_000) == 17  # refused twice, then slow as well


def test_a_fast_full_step_lets_the_next_grow_up_to_the_maximum():
    assert next_size(714, 714, 714, 714, 400) == 1428
    assert next_size(4000, 4000, 4000, 4000, 100) == MAXIMUM
    assert next_size(MAXIMUM, MAXIMUM, MAXIMUM, MAXIMUM, 100) == MAXIMUM


def test_a_step_that_handled_less_than_its_size_says_nothing_of_a_bigger_one():
    assert next_size(1000, 1000, 1000, 1, 50) == 1000  # one event deleted, fast
    assert next_size(714, 200, 200, 200, 100) == 714  # 200 events were left
    assert next_size(714, 714, 714, 714, 1_000) == 714  # neither slow nor well under the target


def test_the_target_comes_from_the_deployment_once_configured():
    try:
        steps.configure(100)
        assert steps.next_size(5000, 5000, 5000, 5000, 400, MAXIMUM) == 1250
        steps.configure(None)
        assert steps.next_size(5000, 5000, 5000, 5000, 400, MAXIMUM) == MAXIMUM
    finally:
        steps.configure(None)
