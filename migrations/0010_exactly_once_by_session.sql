-- Issue 16: exactly-once ingest without an index of its own. An SDK retry sends the same event again: same app,
-- session, time and event_id. The session index becomes unique on (app_id, session_id, ts, event_id), so it both
-- serves the fold, erasure and the explorer (as (app_id, session_id, ts) did) and refuses that copy: one row written
-- per event less. SQLite's unique indexes hold any number of NULLs, so events without an event_id never collide.
-- An event whose time is the moment it was received (no timestamp, or one ahead of the worker's clock) gets a
-- new time on every retry: those alone are also kept unique on (app_id, event_id), a partial index that events with
-- their own time never write. Existing rows were unique on (app_id, event_id), so both indexes build.
DROP INDEX IF EXISTS events_event_id;
DROP INDEX IF EXISTS events_app_session;
CREATE UNIQUE INDEX IF NOT EXISTS events_app_session ON events (app_id, session_id, ts, event_id);
CREATE UNIQUE INDEX IF NOT EXISTS events_received_event_id ON events (app_id, event_id)
  WHERE event_id IS NOT NULL AND ts = received_at;
