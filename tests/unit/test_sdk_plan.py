"""Batch sizes at the head of the queue after splits (pure)."""
from oddlytics.plan import SplitPlan


def test_without_a_split_batches_are_full():
    plan = SplitPlan()
    assert (plan.active, plan.next_size(25)) == (False, 25)


def test_a_split_sends_two_halves_then_full_batches_again():
    plan = SplitPlan()
    plan.split(25)
    assert plan.sizes() == [13, 12] and plan.next_size(25) == 13
    plan.settled(13)
    plan.split(12)
    assert plan.sizes() == [6, 6]
    plan.settled(6)
    plan.settled(6)
    assert (plan.active, plan.next_size(25)) == (False, 25)


def test_a_split_of_a_batch_cut_short_keeps_the_rest_of_its_half():
    plan = SplitPlan()
    plan.split(20)           # [10, 10]
    plan.split(7)            # only 7 of the first 10 fit in one body, and they were refused
    assert plan.sizes() == [4, 3, 3, 10]


def test_events_dropped_from_a_half_shrink_it():
    plan = SplitPlan()
    plan.split(8)
    plan.settled(1)          # one event named invalid; the other 3 go again as that half
    assert plan.sizes() == [3, 4]
