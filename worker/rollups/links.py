"""Linking an anonymous id to the identified user (`POST /identify`, the SDK's `identify`).

A link *moves* the anonymous id's recent events to the identified user: the events keep their `event_id` (so a
retry of one of them is still a duplicate) and get `user_id` = the identified id and a new `id` above the fold
watermark. That is a deletion followed by an insert of the same events, done in one transaction: the erasure
machinery's statements for a chunk (rollups/erasure.py) take the chunk out of every rollup, exactly as deleting
it would, and its `DELETE` is replaced by the `UPDATE` below, so the fold then counts the moved events under the
identified user like any newly received ones. No copy ever sits beside its original, so the exactly-once keys
(app, session, time and event_id; schema.sql) never collide.

Bounded whatever a sender does (the INGEST_KEY ships inside apps):
- one anonymous id links to one user, the first one asked: a later link to another user is refused (409), a
  repeated link to the same user is harmless (it moves only what is left under the anonymous id); an id some
  anonymous id was linked to is an identified user's, and is never moved (409);
- at most MAX_MOVED events per anonymous id, ever, and only events stamped in the last LINK_DAYS days (older
  ones stay anonymous), of its newest MAX_SESSIONS sessions, in sessions of at most MAX_SESSION_EVENTS events (see
  `selection`);
- at most MAX_CHUNKS transactions per request, each as small as D1 needs (chunk.shrinking).
"""
from rollups import erasure, marks
from rollups.chunk import shrinking
from sql import Sql
from tz.timeutil import DAY, MS

MAX_MOVED = 1000
LINK_DAYS = 30
MAX_CHUNKS = 3
# How far a link looks (its anonymous id's newest events in any app), and which sessions it moves events of.
WALK = 2 * MAX_MOVED
MAX_SESSIONS = 50
MAX_SESSION_EVENTS = 1000
# Links the retention period forgets per purge step.
FORGET_CHUNK = 1000

# The moved events get ids above every id and above the watermark, without gaps, by app, session and time: as the
# insert of routes/track.py would give them (ids then stay far below limits.MAX_BIND_INT), each session's moved
# events one span (rollups/spans.py), whose head (their latest) carries the identified user's mark there
# (rollups/marks.py), the others none: the moved events are then covered as the user's, and keep_marks and keep_spans
# (before the move) covered what stays.
MOVE_SQL = """UPDATE events SET user_id = ?, id = m.new_id, user_mark = m.head,
  span_first = CASE WHEN m.head = 1 THEN m.first_id END
FROM (SELECT o.old_id, o.new_id, o.head, MIN(o.new_id) OVER (PARTITION BY o.app_id, o.session_id) AS first_id
  FROM (SELECT c.id AS old_id, e.app_id, e.session_id,
      b.base + ROW_NUMBER() OVER (ORDER BY e.app_id, e.session_id, e.ts, e.id) AS new_id,
      CASE WHEN ROW_NUMBER() OVER (PARTITION BY e.app_id, e.session_id ORDER BY e.ts DESC, e.id DESC) = 1 THEN 1 END AS head
    FROM erase_chunk AS c JOIN events AS e ON e.id = c.id,
    (SELECT MAX(COALESCE((SELECT MAX(id) FROM events), 0), folded) AS base FROM fold_state WHERE id = 1) AS b) AS o) AS m
WHERE events.id = m.old_id"""

CLAIM_SQL = """INSERT INTO identity_links (app_id, anonymous_id, user_id, linked_at, moved) VALUES (?, ?, ?, ?, 0)
ON CONFLICT (anonymous_id, app_id) DO NOTHING"""
# An id some anonymous id was linked to is an identified user's: never moved as if it were anonymous (apps whose
# own user ids are UUIDs).
TARGET_SQL = "SELECT 1 AS found FROM identity_links WHERE user_id = ? AND app_id = ? LIMIT 1"
LINK_SQL = "SELECT user_id, moved FROM identity_links WHERE anonymous_id = ? AND app_id = ?"


def selection(app_id, anonymous_id, since_ms):
    """The anonymous id's events in the app since `since_ms`, newest first: those of its newest MAX_SESSIONS sessions
    in the app marked since then (rollups/marks.py; a walk of at most WALK marks: marks a sender stored under the id
    cannot make a link, or its probe, read more) that hold at most MAX_SESSION_EVENTS counted events. A moved
    event's session is taken out of the rollups and put back from its other events (rollups/erasure.py), which
    reads them: without these bounds a sender could put one anonymous event in each of many crowded sessions and
    make every link read them all."""
    marked = marks.sessions_of(anonymous_id, since_ms, Sql("m.app_id = ?", [app_id]), walk=WALK)
    sessions = ("SELECT v.app_id AS app_id, v.session_id AS session_id FROM (" + marked
                + ") AS v LEFT JOIN sessions AS s ON s.app_id = v.app_id AND s.session_id = v.session_id "
                f"WHERE COALESCE(s.events, 0) <= {MAX_SESSION_EVENTS} ORDER BY v.newest DESC LIMIT {MAX_SESSIONS}")
    where = "id IN (" + marks.user_events(anonymous_id, sessions, extra=Sql("e.ts >= ?", [since_ms])) + ")"
    return erasure.Selection(where, "ts DESC, id DESC")


def move_statements(app_id, anonymous_id, user_id, since_ms, size):
    """One chunk: erasure's statements for the chunk with its DELETE replaced by the move, and the link's count.
    Returns (statements, the move's index)."""
    statements = erasure.chunk_statements(selection(app_id, anonymous_id, since_ms), size)
    at = next(i for i, s in enumerate(statements) if s is erasure.DELETE_EVENTS)
    count = Sql("UPDATE identity_links SET moved = moved + (SELECT COUNT(*) FROM erase_chunk) "
                "WHERE anonymous_id = ? AND app_id = ?", [anonymous_id, app_id])
    return [*statements[:at], Sql(MOVE_SQL, [user_id]), count, *statements[at + 1:]], at


LINKED_ELSEWHERE = "this anonymous id is linked to another user already"
IDENTIFIED = "this id is an identified user's (an anonymous id was linked to it), not an anonymous one"


async def link(db, now_ms, app_id, anonymous_id, user_id):
    """Move the anonymous id's events to `user_id`. Returns the route's payload, or why nothing was done (one of
    the messages above: the route's 409)."""
    if await db.first(TARGET_SQL, anonymous_id, app_id):
        return IDENTIFIED
    await db.run(CLAIM_SQL, app_id, anonymous_id, user_id, now_ms)
    row = await db.first(LINK_SQL, anonymous_id, app_id)
    if row["user_id"] != user_id:
        return LINKED_ELSEWHERE
    since_ms = now_ms - LINK_DAYS * DAY * MS
    total = int(row["moved"])
    moved, complete = 0, False
    # A repeated link (an app start as the same user) usually finds nothing: one index probe, no transaction.
    if not await db.first("SELECT 1 AS found FROM events WHERE " + selection(app_id, anonymous_id, since_ms).where
                          + " LIMIT 1"):
        complete = True
    for _ in range(0 if complete else MAX_CHUNKS):
        if total + moved >= MAX_MOVED:
            break

        async def move(size):
            statements, at = move_statements(app_id, anonymous_id, user_id, since_ms, size)
            return int((await db.batch(statements))[at]["meta"].get("changes", 0))

        done, size = await shrinking(move, MAX_MOVED - total - moved)
        moved += done
        if done < size:
            complete = True
            break
    return {"success": True, "linked": True, "moved": moved, "complete": complete,
            "moved_total": total + moved, "max_moved": MAX_MOVED, "days": LINK_DAYS}


def forget(app_id=None, user_id=None, before_ms=None):
    """The statements that remove the links an erasure or the retention period removes (a link ties an anonymous id
    to a person): those of an erased user id, as the user or as the anonymous id (in one app or all), an app's, or
    up to FORGET_CHUNK made before `before_ms`."""
    in_app = Sql(" AND app_id = ?", [app_id]) if app_id is not None else ""
    if user_id is not None:
        return [Sql("DELETE FROM identity_links WHERE user_id = ?", [user_id]) + in_app,
                Sql("DELETE FROM identity_links WHERE anonymous_id = ?", [user_id]) + in_app]
    if app_id is not None:
        return [Sql("DELETE FROM identity_links WHERE app_id = ?", [app_id])]
    return [Sql("DELETE FROM identity_links WHERE (anonymous_id, app_id) IN (SELECT anonymous_id, app_id "
                f"FROM identity_links WHERE linked_at < ? ORDER BY linked_at LIMIT {FORGET_CHUNK})", [before_ms])]
