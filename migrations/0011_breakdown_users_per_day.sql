-- Issue 16: breakdown user sets as one row per user and day (daily_user_dims, its keys in a JSON object) instead
-- of one per user, day and key (daily_dim_users): the fold writes a row per user it sees in a step, not one per
-- key, and retention deletes a row per user and day. The sets move over as they are (the same users and counts),
-- so no rollup is rebuilt and nothing that retention already purged from the raw events is lost.
-- The triggers name the old table: they go first, and come back naming the new one.
DROP TRIGGER IF EXISTS dims_fold_insert;
DROP TRIGGER IF EXISTS purge_rows_insert;
CREATE TABLE IF NOT EXISTS daily_user_dims (
  app_id TEXT NOT NULL,
  day INTEGER NOT NULL,
  sample INTEGER NOT NULL,
  user_id TEXT NOT NULL,
  dims TEXT NOT NULL,
  PRIMARY KEY (app_id, day, sample, user_id)
) WITHOUT ROWID;
-- Created if missing (empty) so that applying this migration twice changes nothing, as every migration may be.
CREATE TABLE IF NOT EXISTS daily_dim_users (
  app_id TEXT NOT NULL,
  event_name TEXT NOT NULL,
  dim TEXT NOT NULL,
  kind INTEGER NOT NULL,
  value TEXT NOT NULL,
  day INTEGER NOT NULL,
  sample INTEGER NOT NULL,
  user_id TEXT NOT NULL,
  events INTEGER NOT NULL,
  PRIMARY KEY (app_id, event_name, dim, kind, value, day, sample, user_id)
) WITHOUT ROWID;
INSERT OR IGNORE INTO daily_user_dims (app_id, day, sample, user_id, dims)
  SELECT app_id, day, sample, user_id, json_group_object(dim || ':' || kind || ':' || hex(value), events)
  FROM daily_dim_users WHERE event_name = '' AND events > 0 GROUP BY app_id, day, sample, user_id;
DROP TABLE IF EXISTS daily_dim_users;
CREATE TRIGGER IF NOT EXISTS dims_fold_insert INSTEAD OF INSERT ON dims_fold
BEGIN
  INSERT INTO hourly_dims (app_id, event_name, dim, kind, value, hour, events, sessions)
    SELECT NEW.app_id, NEW.event_name, NEW.dim, NEW.kind, NEW.value, NEW.bucket, NEW.events, NEW.sessions
    WHERE NEW.grain = 'hour'
    ON CONFLICT (app_id, event_name, dim, kind, value, hour) DO UPDATE SET events = events + excluded.events,
      sessions = sessions + excluded.sessions;
  INSERT INTO daily_dims (app_id, event_name, dim, kind, value, day, events, sessions, users)
    SELECT NEW.app_id, NEW.event_name, NEW.dim, NEW.kind, NEW.value, NEW.bucket, NEW.events, NEW.sessions, NEW.users
    WHERE NEW.grain = 'day'
    ON CONFLICT (app_id, event_name, dim, kind, value, day) DO UPDATE SET events = events + excluded.events,
      sessions = sessions + excluded.sessions, users = users + excluded.users;
  INSERT INTO daily_user_dims (app_id, day, sample, user_id, dims)
    SELECT NEW.app_id, NEW.bucket, NEW.sample, NEW.user_id, NEW.value WHERE NEW.grain = 'user'
    ON CONFLICT (app_id, day, sample, user_id) DO UPDATE SET dims = excluded.dims;
  INSERT INTO dim_values (app_id, event_name, dim, kind, value)
    SELECT NEW.app_id, NEW.event_name, NEW.dim, NEW.kind, NEW.value WHERE NEW.grain = 'dim_value'
    ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER IF NOT EXISTS purge_rows_insert INSTEAD OF INSERT ON purge_rows
BEGIN
  DELETE FROM session_users WHERE NEW.target = 'session' AND app_id = NEW.app_id AND session_id = NEW.session_id;
  DELETE FROM sessions WHERE NEW.target = 'session' AND app_id = NEW.app_id AND session_id = NEW.session_id;
  DELETE FROM hourly_users WHERE NEW.target = 'hour' AND app_id = NEW.app_id AND hour = NEW.bucket;
  DELETE FROM daily_users WHERE NEW.target = 'day' AND app_id = NEW.app_id AND day = NEW.bucket;
  DELETE FROM daily_user_dims WHERE NEW.target = 'day' AND app_id = NEW.app_id AND day = NEW.bucket;
END;
