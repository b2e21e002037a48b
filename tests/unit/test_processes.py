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
