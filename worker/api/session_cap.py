"""How many events one session may hold (issue 16). Pure: builds the statements ingest runs (api/ingest.py) and
the refusal.

A session is read whole wherever its events are needed together: the fold recomputes a session's start, length and
keys from all its counted events, and the explorer's `?session_id=` and `?user_id=` pages and the user page sort
whole sessions. The INGEST_KEY ships inside apps, so without a cap one sender could grow a session without end and
make each of those reads, and every fold step that sees a new event of it, grow with it; a fold step that cannot
finish would stop every read that folds first.

So a request is refused (400, each event of the session named: the SDK drops those and sends the rest) when one of
its sessions already holds MAX_SESSION_EVENTS events. A request that starts below the cap goes in whole: a session
holds at most MAX_SESSION_EVENTS + 999 events (a request holds at most 1,000). Real sessions stay far below it: the
SDK starts a new session after an hour without events, and 10,000 events are one every 3 seconds for 8 hours.

What a session holds is counted from its spans (rollups/spans.py): the heads in events_session_spans, each the last
id of its span and holding the first, so a span of n events costs one index entry, and a session as many as the
requests it arrived in. A new session (live traffic, mostly) finds no entry, which D1 does not bill. Ids a deletion
left out of a span still count until the span is cut again: the count is never below what the session holds.

The check runs in the insert's batch (one transaction, no extra subrequest): past the cap it inserts a text rowid
into fold_guard, whose `datatype mismatch` rolls the batch back (api/caps.py uses the table's two other failures).
"""
from errors import BadRequest, ServiceUnavailable, detail
from sql import bound_pairs

MAX_SESSION_EVENTS = 10_000
REFUSAL = "datatype mismatch"

HELD = """(SELECT COALESCE(SUM(h.id - h.span_first + 1), 0) FROM events AS h INDEXED BY events_session_spans
  WHERE h.app_id = b.app_id AND h.session_id = b.session_id AND h.span_first IS NOT NULL)"""


def batch_sessions(rows):
    """SQL rows (app_id, session_id): the batch's distinct sessions, as `b`."""
    sessions = sorted({(row["app_id"], row["session_id"]) for row in rows})
    return "(" + bound_pairs(sessions, "app_id", "session_id") + ") AS b"


def guard(rows):
    """The statement that goes in the insert's batch before the inserts: fails when a session of the batch holds
    MAX_SESSION_EVENTS events already."""
    return ("INSERT INTO fold_guard (rowid, ok) SELECT 'session cap', 1 FROM " + batch_sessions(rows)
            + f"\nWHERE {HELD} >= {MAX_SESSION_EVENTS} LIMIT 1")


def refused(error):
    """Whether a D1Error from the guarded insert batch is this guard's refusal (nothing was stored)."""
    return REFUSAL in error.reason


def diagnosis(rows):
    """The sessions of the batch at the cap: a refused request counts again once, to name them."""
    return "SELECT b.app_id AS app_id, b.session_id AS session_id FROM " + batch_sessions(rows) + \
        f"\nWHERE {HELD} >= {MAX_SESSION_EVENTS}"


def raise_refusal(full, rows):
    """`full`: the diagnosis rows. Raises the 400 naming each event of those sessions."""
    over = {(row["app_id"], row["session_id"]) for row in full}
    problems = [detail(row.get("index", position), "session_id",
                       f"session {row['session_id'][:100]!r} already holds {MAX_SESSION_EVENTS:,} events, the most a "
                       "session may hold: start a new session")
                for position, row in enumerate(rows) if (row["app_id"], row["session_id"]) in over]
    if not problems:
        # Deleted meanwhile (an erasure between the batch and the diagnosis): nothing was stored, send it again.
        raise ServiceUnavailable("a session's events changed while the batch was checked; nothing was stored, send it "
                                 "again", [detail(None, "body", "retry")])
    shown = ", ".join(repr(session)[:80] for _, session in sorted(over)[:3])
    raise BadRequest(f"{len(problems)} event{'s' if len(problems) != 1 else ''} of a session that already holds "
                     f"{MAX_SESSION_EVENTS:,} events ({shown}); nothing was stored. Send them in a new session",
                     problems[:100])
