"""Deleting events while keeping every rollup equal to what the remaining events say.

One mechanism serves every kind of deletion (one event, a user's erasure request, a whole app,
retention): a `Selection` is an SQL condition on `events` with its bound values, with the order its index
gives. Each chunk of matching events is pinned in `erase_chunk` and removed in ONE `db.batch` (one
transaction), every rollup family taking out what it counted (`chunk_statements`, an ordered list):

- only folded events (id <= fold_state.folded) are in the rollups, so only they are subtracted;
  unfolded ones simply go;
- counts subtract exactly (events per hour/day and name, user-hours and user-days by their event counts);
- each session touched is taken out of the rollups whole and put back from its remaining events, so
  its start (where it is counted) and the names it did stay exact;
- user sketches cannot forget a user: the hours and days touched are queued in `stale_sketches` and
  rebuilt (rollups/sketches.py) before the next fold;
- per-user and per-app first/last seen come from the remaining counted events: a user's through their marked
  sessions (rollups/marks.py), an app's through each of its event names (`events_app_name`).
"""
from rollups import activity, catalog, counters, dims, fold, marks, sessions, spans, steps, users
from rollups.chunk import Erasing
from rollups.raw_events import oldest_by_name
from sql import Sql

# At most this many events per transaction: keeps each statement's rows read/written bounded. Steps start at
# FIRST_CHUNK and follow how long they take (rollups/steps.py): what an event costs grows with its properties and
# its session (5,000 events of 50 properties took 14 s locally, 1,000 take ~2.8 s).
CHUNK = 5000
FIRST_CHUNK = 1000
# D1 Free allows 50 queries per invocation; a chunk is one batch.
MAX_CHUNKS_PER_CALL = 1


class Selection:
    """`where`: an Sql condition on events; `order`: the order of the index that serves it, so a chunk is
    found without sorting the rest. Or `pick(chunk)`: the Sql selecting a chunk's ids itself, for a walk a condition
    cannot say (a user's marked sessions, or name by name for a deletion by age)."""

    def __init__(self, where=None, order="ts, id", pick=None):
        self.where = where
        self.order = order
        self.pick = pick

    def chunk(self, size):
        if self.pick is not None:
            return self.pick(size)
        return "SELECT id FROM events WHERE " + self.where + f" ORDER BY {self.order} LIMIT {int(size)}"


def by_id(event_id):
    return Selection(Sql("id = ?", [event_id]), "id")


def by_user(user_id, app_id=None):
    # The user's marked sessions, then their events of the user through the sessions' spans: there is no index on
    # (user_id, ts) (rollups/marks.py). Unfolded events are marked too. Each step reads all the user's marks.
    in_app = None if app_id is None else Sql("m.app_id = ?", [app_id])
    sessions = marks.sessions_of(user_id, app_condition=in_app)
    return Selection(pick=lambda size: marks.user_events(user_id, sessions) + f" LIMIT {int(size)}")


def by_app(app_id):
    # In the order of events_app_name (app_id, event_name, ts): there is no index on (app_id, ts) to walk.
    return Selection(Sql("app_id = ?", [app_id]), "event_name, ts, id")


def older_than(cutoff_ms):
    # Name by name through events_app_name, unfolded events too: there is no index on (app_id, ts).
    return Selection(pick=lambda size: oldest_by_name(cutoff_ms, size, folded_only=False))


# Counted before the events go (folded or not): apps left without any event.
EMPTIED_APPS = Sql(f"""SELECT COUNT(*) AS emptied FROM (SELECT DISTINCT app_id FROM events WHERE {Erasing.gone}) AS g
WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.app_id = g.app_id AND e.id NOT IN ({Erasing.gone_ids}))""")
DELETE_EVENTS = Sql(f"DELETE FROM events WHERE {Erasing.gone}")


def chunk_statements(selection, chunk=CHUNK):
    """The statements that remove one chunk of `selection`, in order: families that read what others change
    come first. EMPTIED_APPS and DELETE_EVENTS answer for the chunk (see `erase`)."""
    erasing = Erasing()
    # The chunk is pinned first: later statements change tables a selection may read (apps, for older_than).
    pin = "INSERT INTO erase_chunk (id) " + selection.chunk(chunk)
    return [
        Sql("DELETE FROM erase_chunk"), pin,
        *dims.erase_out(erasing),  # reads the users' samples from daily_users and the sessions' starts
        *counters.erase_out(erasing),
        *activity.erase_sessions(erasing),  # reads the touched sessions before they go
        *users.leave_sessions(erasing),
        *sessions.erase(erasing),  # the touched sessions go, and come back from what remains
        *users.rejoin_sessions(erasing),
        *dims.erase_in(erasing),
        *counters.erase_in(erasing),
        *activity.new_users_out(erasing),  # before users.first_seen changes
        *users.erase(erasing),
        *catalog.erase(erasing),
        *activity.new_users_in(erasing),  # after users.first_seen changed
        *counters.erase_emptied(erasing),
        marks.keep_marks(Erasing.gone_ids),  # before the events go (or a link moves them)
        spans.keep_spans(Erasing.gone_ids),  # before the events go
        EMPTIED_APPS, DELETE_EVENTS,
        Sql("UPDATE fold_state SET version = version + 1 WHERE id = 1"),
        Sql("DELETE FROM erase_chunk"),
    ]


def removed_by(results):
    """Events a chunk's batch deleted (`remove` in `erase`: results by statement)."""
    return int(results[id(DELETE_EVENTS)]["meta"].get("changes", 0))


async def erase(db, selection, max_chunks=MAX_CHUNKS_PER_CALL):
    """Remove what `selection` matches, chunk by chunk. Returns the payload the admin routes answer.

    `complete` is False when events still match after `max_chunks` chunks: call again. A chunk D1 refuses (a
    statement past its limits or time) is tried a quarter as big, down to one event, and a slow one makes the next
    smaller (rollups/steps.py): hostile data stays erasable.
    """
    events = apps = 0
    complete = False
    # Fold a chunk first, so fewer of the events about to go were never counted (nothing depends on it).
    await fold.try_catch_up(db)

    async def remove(size):
        statements = chunk_statements(selection, size)
        return dict(zip(map(id, statements), await db.batch(statements)))

    size = None  # read by the first step, then carried: each query counts against D1's 50 per invocation
    for _ in range(max_chunks):
        results, chunk, size = await steps.run(db, "erase", remove, CHUNK, FIRST_CHUNK, handled=removed_by,
                                               stored=size)
        removed = removed_by(results)
        events += removed
        apps += results[id(EMPTIED_APPS)]["rows"][0]["emptied"]
        if removed < chunk:
            complete = True
            break
    return {"success": True, "deleted": {"events": events, "apps": apps}, "complete": complete}
