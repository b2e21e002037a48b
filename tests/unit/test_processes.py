"""scripts/processes.py's stop signals: the first one stops the run, wherever it lands."""
import signal
import sys
import weakref

import pytest

from scripts import processes


def test_a_stop_signal_inside_a_finalizer_is_kept_for_the_waiting_loop_not_raised_there():
    """A KeyboardInterrupt raised in a finalizer is swallowed with a printed traceback ("Exception ignored in"):
    test_lifecycle's SIGTERM during demo loading once landed in a weakref.finalize callback."""
    class Held:
        pass

    outcome = []

    def on_collect():
        try:
            processes._on_stop_signal(signal.SIGTERM, sys._getframe())
            outcome.append("kept")
        except KeyboardInterrupt:
            outcome.append("raised")

    held = Held()
    weakref.finalize(held, on_collect)
    try:
        del held
        assert outcome == ["kept"] and processes._signal_received == signal.SIGTERM
        with pytest.raises(KeyboardInterrupt):
            processes.raise_if_stop_requested()
        # Outside a finalizer the first signal raises at once.
        processes._signal_received = None
        with pytest.raises(KeyboardInterrupt):
            processes._on_stop_signal(signal.SIGTERM, sys._getframe())
    finally:
        processes._signal_received = None


RACE_REPLY = b'{"error": {"text": "The expression evaluated to a falsy value:\\n\\n  (0, import_assert7.default)(message?.id === id)\\n"}}'


def test_wrangler_runs_again_after_miniflares_proxy_race_and_only_after_it(monkeypatch):
    """The race (CI, stop 35: a `d1 execute` of a SELECT) fails before any statement runs, so the command is run
    again; any other failure is reported at once, and the race is reported after PROXY_RACE_ATTEMPTS runs."""
    def runs(*replies):
        calls = []

        def fake(args):
            calls.append(args)
            return replies[len(calls) - 1]
        monkeypatch.setattr(processes, "_run_wrangler", fake)
        return calls

    calls = runs((1, RACE_REPLY, b""), (1, RACE_REPLY, b""), (0, b"[]", b""))
    assert processes.wrangler("d1", "execute", "db") == "[]" and len(calls) == 3

    calls = runs((1, b"", b"no such table: events"))
    with pytest.raises(processes.ServerError, match="no such table: events"):
        processes.wrangler("d1", "execute", "db")
    assert len(calls) == 1

    calls = runs(*[(1, b"", RACE_REPLY)] * processes.PROXY_RACE_ATTEMPTS)
    with pytest.raises(processes.ServerError, match="falsy value"):
        processes.wrangler("d1", "execute", "db")
    assert len(calls) == processes.PROXY_RACE_ATTEMPTS
