"""Session ids rotate after the idle timeout (clock injected)."""
import itertools

from oddlytics.session import Session


def make_session(clock):
    ids = (f"s{n}" for n in itertools.count(1))
    return Session(idle_timeout=60, clock=lambda: clock[0], new_id=lambda: next(ids))


def test_activity_within_timeout_keeps_the_session():
    clock = [0.0]
    session = make_session(clock)
    seen = []
    for t in (0, 50, 100, 159):
        clock[0] = t
        seen.append(session.current())
    assert seen == ["s1"] * 4


def test_idle_longer_than_timeout_starts_a_new_session():
    clock = [0.0]
    session = make_session(clock)
    first = session.current()
    clock[0] = 60.5
    second = session.current()
    clock[0] = 100
    assert (first, second, session.current()) == ("s1", "s2", "s2")


def test_default_ids_are_uuids_and_differ_per_session_object():
    a, b = Session().current(), Session().current()
    assert len(a) == 36 and a != b
