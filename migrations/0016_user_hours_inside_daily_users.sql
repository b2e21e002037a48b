-- Issue 16: who was active in each hour moves inside the user's day row. hourly_users held a row per user and hour,
-- written beside the user's daily_users row at every fold step and deleted again at retention: 6,000 of the
-- reference day's rows written. daily_users.hours now holds the day's hours as a JSON object
-- {"<hour of the UTC day, 0-23>": events}, and daily_users.uh the user's sketch register; `hourly_users` becomes a
-- view of them, so readers still see user-hours as rows.
ALTER TABLE daily_users ADD COLUMN uh INTEGER;
ALTER TABLE daily_users ADD COLUMN hours TEXT;
-- A user with hour rows and no day row (none is expected: both were written together) keeps the day's events.
INSERT OR IGNORE INTO daily_users (app_id, day, user_id, events)
  SELECT app_id, hour - hour % 86400, user_id, SUM(events) FROM hourly_users WHERE events > 0
  GROUP BY app_id, hour - hour % 86400, user_id;
-- One pass over the hour rows, grouped by user and day (a lookup per day row would scan each day's hours again).
UPDATE daily_users SET uh = g.uh, hours = g.hours
FROM (SELECT app_id, hour - hour % 86400 AS day, user_id, MAX(uh) AS uh,
        json_group_object(CAST((hour % 86400) / 3600 AS TEXT), events) AS hours
      FROM hourly_users WHERE events > 0 GROUP BY app_id, hour - hour % 86400, user_id) AS g
WHERE daily_users.app_id = g.app_id AND daily_users.day = g.day AND daily_users.user_id = g.user_id;
-- The purge's trigger deleted hour rows: it now deletes whole days only (the hours are inside them).
DROP TRIGGER IF EXISTS purge_rows_insert;
DROP TABLE IF EXISTS hourly_users;
CREATE VIEW IF NOT EXISTS hourly_users AS
  SELECT d.app_id AS app_id, d.day AS day, d.day + CAST(h.key AS INTEGER) * 3600 AS hour, d.user_id AS user_id,
    d.uh AS uh, h.value AS events
  FROM daily_users AS d CROSS JOIN json_each(d.hours) AS h;
CREATE TRIGGER IF NOT EXISTS purge_rows_insert INSTEAD OF INSERT ON purge_rows
BEGIN
  DELETE FROM session_users WHERE NEW.target = 'session' AND app_id = NEW.app_id AND session_id = NEW.session_id;
  DELETE FROM sessions WHERE NEW.target = 'session' AND app_id = NEW.app_id AND session_id = NEW.session_id;
  DELETE FROM daily_users WHERE NEW.target = 'day' AND app_id = NEW.app_id AND day = NEW.bucket;
  DELETE FROM daily_user_dims WHERE NEW.target = 'day' AND app_id = NEW.app_id AND day = NEW.bucket;
END;
