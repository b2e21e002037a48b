-- Issue 16: one row written per event less. The unique index on (app_id, session_id, ts, event_id) held an entry per
-- event; a session's events are now found through its spans (rollups/spans.py): each request's events of a session
-- take consecutive ids, and its latest (the head) carries span_first, the first of them; only heads are in the
-- partial index events_session_spans. Exactly once asks the session's spans for a first copy (api/ingest.py).
-- Existing events are cut into runs of consecutive ids of one app and session whose time does not decrease; each
-- run's last event is its head, and a head with a user is marked (the rules of rollups/spans.py).
ALTER TABLE events ADD COLUMN span_first INTEGER;
UPDATE events SET span_first = r.first_id FROM (
  SELECT MAX(id) AS id, MIN(id) AS first_id FROM (
    SELECT id, SUM(starts) OVER (ORDER BY id) AS run FROM (
      SELECT id, CASE WHEN app_id = LAG(app_id) OVER w AND session_id = LAG(session_id) OVER w AND ts >= LAG(ts) OVER w
        THEN 0 ELSE 1 END AS starts
      FROM events WINDOW w AS (ORDER BY id)))
  GROUP BY run) AS r
WHERE events.id = r.id;
UPDATE events SET user_mark = 1 WHERE span_first IS NOT NULL AND user_id IS NOT NULL AND user_mark IS NULL;
DROP INDEX IF EXISTS events_app_session;
CREATE INDEX IF NOT EXISTS events_session_spans ON events (app_id, session_id, ts, span_first)
  WHERE span_first IS NOT NULL;
CREATE VIEW IF NOT EXISTS session_events AS
  SELECT e.id AS id, e.event_id AS event_id, h.app_id AS app_id, e.event_name AS event_name,
    h.session_id AS session_id, e.user_id AS user_id, e.ts AS ts, e.received_at AS received_at,
    e.platform AS platform, e.app_version AS app_version, e.country AS country, e.properties AS properties,
    e.user_mark AS user_mark, e.span_first AS span_first, h.ts AS span_ts
  FROM events AS h INDEXED BY events_session_spans CROSS JOIN events AS e NOT INDEXED
    ON e.id BETWEEN h.span_first AND h.id AND e.app_id = h.app_id AND e.session_id = h.session_id
  WHERE h.span_first IS NOT NULL;
