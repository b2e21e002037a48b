"""Process groups that must not outlive their starter, and wrangler commands run in one: used by
scripts/devserver.py (servers) and scripts/migrate.py (one-off wrangler commands).

Every process started here runs in a session (process group) of its own, so that a stop reaches its children
too (wrangler's workerd). `run_until_stopped` turns the first SIGINT/SIGTERM/SIGHUP into one KeyboardInterrupt,
ignores the rest, and stops every started group: SIGTERM, then SIGKILL after a grace period.
"""
import atexit
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WRANGLER = ROOT / "node_modules" / ".bin" / "wrangler"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
GRACE_SECONDS = 5.0  # between SIGTERM and SIGKILL
REAP_SECONDS = 10.0  # after SIGKILL, for the kernel to take the processes down


class ServerError(RuntimeError):
    """A server that cannot start (port taken, exited, not ready): one line for the user, no traceback."""


# ---- Process groups that must not outlive this process ------------------------------------------------------

_groups = []  # Popen objects, each the leader of a process group started here and not yet stopped
_signal_received = None  # the first stop signal, turned into KeyboardInterrupt
_deferred_signal = None  # a signal that arrived while signals were deferred
_defer_depth = 0
_stopping = False  # run_until_stopped is stopping everything


def _in_finalizer(frame):
    """Whether the signal interrupted a finalizer (a weakref.finalize callback or a __del__, run by the garbage
    collector at any allocation): Python swallows an exception raised there and prints its traceback."""
    while frame is not None:
        code = frame.f_code
        if code.co_name == "__del__" or (code.co_name == "__call__" and code.co_filename.endswith("weakref.py")):
            return True
        frame = frame.f_back
    return False


def _on_stop_signal(signum, frame):
    global _signal_received, _deferred_signal
    if _signal_received:
        return  # shutting down already: a second signal must not interrupt the cleanup
    if _defer_depth:
        _deferred_signal = signum
        return
    _signal_received = signum
    if _in_finalizer(frame):
        return  # the waiting loops stop at their next raise_if_stop_requested(), without a traceback
    raise KeyboardInterrupt


def raise_if_stop_requested():
    """For waiting loops. A KeyboardInterrupt raised while a finalizer runs is swallowed ("Exception ignored
    in ..."), and later signals are ignored: the stop that signal asked for must still happen."""
    if _signal_received and not _stopping:
        raise KeyboardInterrupt


@contextmanager
def signals_deferred():
    """Let a start or a stop finish before a stop signal interrupts (Python runs handlers in the main thread only).

    Without this a Popen could return a group that nobody records, or a stop could be cut between its groups."""
    global _defer_depth, _deferred_signal, _signal_received
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _defer_depth += 1
    try:
        yield
    finally:
        _defer_depth -= 1
    if not _defer_depth and _deferred_signal and not _signal_received:
        _signal_received, _deferred_signal = _deferred_signal, None
        raise KeyboardInterrupt


def stop_on_signals():
    """SIGINT, SIGTERM and SIGHUP raise KeyboardInterrupt once (also where a shell left SIGINT ignored, as for
    background jobs); whatever is still running is stopped at exit."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, _on_stop_signal)


def stop_signal_status():
    """The exit status a shell expects after a stop by signal (128 + its number)."""
    return 128 + (_signal_received or signal.SIGINT)


def _group_alive(leader):
    if leader.poll() is None:
        return True
    try:
        os.killpg(leader.pid, 0)  # the leader is reaped, but a child in its group may still hold a port
        return True
    except (ProcessLookupError, PermissionError):
        return False


def _signal_groups(leaders, signum):
    for leader in leaders:
        try:
            os.killpg(leader.pid, signum)
        except ProcessLookupError:
            pass


def _wait_groups(leaders, seconds):
    deadline = time.monotonic() + seconds
    alive = [leader for leader in leaders if _group_alive(leader)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [leader for leader in alive if _group_alive(leader)]
    return alive


def stop_groups(leaders):
    """SIGTERM to each group, SIGKILL to those still there after GRACE_SECONDS; returns when all are gone."""
    with signals_deferred():
        leaders = [leader for leader in leaders if leader is not None]
        _signal_groups([leader for leader in leaders if _group_alive(leader)], signal.SIGTERM)
        stubborn = _wait_groups(leaders, GRACE_SECONDS)
        _signal_groups(stubborn, signal.SIGKILL)
        _wait_groups(stubborn, REAP_SECONDS)
        for leader in leaders:
            if leader in _groups:
                _groups.remove(leader)


def stop_all():
    """Stop every group started here and still running, together (one grace period, not one each)."""
    stop_groups(list(_groups))


atexit.register(stop_all)


def start_group(command, env=None, **popen_args):
    """Popen `command` as the leader of a new session, recorded for stop_all before any signal can intervene."""
    with signals_deferred():
        leader = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL,
                                  start_new_session=True, **popen_args)
        _groups.append(leader)
    return leader


def run_until_stopped(main):
    """Run `main()` with stop_on_signals; stop what it started, however it ends. Returns the exit status: main's,
    1 with one line after a ServerError, 128 + signal after a stop signal (and no traceback)."""
    global _stopping
    try:
        stop_on_signals()
        return main()
    except KeyboardInterrupt:
        _stopping = True
        print(f"{Path(sys.argv[0]).name}: interrupted; stopping what it started", file=sys.stderr)
        return stop_signal_status()
    except ServerError as error:
        print(f"{Path(sys.argv[0]).name}: {error}", file=sys.stderr)
        return 1
    finally:
        _stopping = True
        stop_all()
        # CPython puts the default handlers back while finalizing: a late Ctrl-C would then kill the exiting
        # process with a misleading status. Nothing is left to stop, so later signals are ignored.
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)


# miniflare 3's SynchronousFetcher (the proxy behind `wrangler d1 execute --local`'s synchronous `db.prepare`) can
# wake without its reply and fail `assert(message?.id === id)`: seen once in ~20 full test runs. It fails while the
# statements are prepared, before `db.batch` runs any of them (wrangler-dist/cli.js: executeLocally), so running the
# same command again is safe, for writes and migrations too.
PROXY_RACE = b"message?.id === id"
PROXY_RACE_ATTEMPTS = 3


def wrangler(*args):
    """Run a wrangler command to completion in a process group of its own; returns its stdout. Runs it again (at most
    PROXY_RACE_ATTEMPTS in all) when it failed on miniflare's proxy race, which runs nothing."""
    for attempt in range(1, PROXY_RACE_ATTEMPTS + 1):
        returncode, output, errors = _run_wrangler(args)
        if not returncode:
            return output.decode(errors="replace")
        if PROXY_RACE not in output + errors or attempt == PROXY_RACE_ATTEMPTS:
            raise ServerError(f"wrangler {' '.join(map(str, args[:3]))} failed: "
                              f"{(errors or output).decode(errors='replace').strip()[-500:]}")


def _run_wrangler(args):
    leader = start_group(
        [str(WRANGLER), *map(str, args)],
        env={"WRANGLER_SEND_METRICS": "false", "CI": "true"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        output, errors = leader.communicate()
    finally:
        stop_groups([leader])  # its workerd may linger after node exits; also reached when interrupted
    return leader.returncode, output, errors
