-- Issue 16: one row written per event less. The index on (user_id, ts) held an entry per event with a user; a user's
-- events are now found through their sessions: one event per app, session and user in each request carries
-- user_mark = 1 (its latest), and only those are in the partial index events_user_marks, whose entries name the
-- session. The session index then gives the session's events. Existing events get one mark per app, session and user,
-- on its latest event, which keeps the rule every writer keeps: each event of a user in a session has a mark of that
-- session at or after its time.
ALTER TABLE events ADD COLUMN user_mark INTEGER;
UPDATE events SET user_mark = 1 WHERE id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER (
  PARTITION BY app_id, session_id, user_id ORDER BY ts DESC, id DESC) AS latest FROM events WHERE user_id IS NOT NULL)
  WHERE latest = 1);
CREATE INDEX IF NOT EXISTS events_user_marks ON events (user_id, ts, app_id, session_id) WHERE user_mark = 1;
DROP INDEX IF EXISTS events_user_ts;
