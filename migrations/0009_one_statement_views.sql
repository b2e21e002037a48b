-- Issue 16: the fold writes the hour and day rows of each counter family, and every breakdown rollup, from one
-- statement each, and a purge step forgets sessions and user sets in one, through views whose triggers route the
-- rows (see schema.sql).
-- The fold admits new breakdown values, adds the chunk to the counters of both grains and the per-user sets and
-- adds the markers from one statement (rollups/dims.py: counters_sql): one expansion of the chunk into its keys
-- instead of six. This view takes those rows and its trigger sends each to its table: `hour` and `day` add to the
-- counters, `user` to daily_dim_users, `dim_value` adds an admitted value or a marker to dim_values. Nothing is
-- ever stored in the view.
CREATE VIEW IF NOT EXISTS dims_fold AS
  SELECT '' AS grain, app_id, event_name, dim, kind, value, day AS bucket, events, sessions, users, 0 AS sample,
    '' AS user_id FROM daily_dims WHERE 0;
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
  INSERT INTO daily_dim_users (app_id, event_name, dim, kind, value, day, sample, user_id, events)
    SELECT NEW.app_id, NEW.event_name, NEW.dim, NEW.kind, NEW.value, NEW.bucket, NEW.sample, NEW.user_id, NEW.events
    WHERE NEW.grain = 'user'
    ON CONFLICT (app_id, event_name, dim, kind, value, day, sample, user_id) DO UPDATE
      SET events = events + excluded.events;
  INSERT INTO dim_values (app_id, event_name, dim, kind, value)
    SELECT NEW.app_id, NEW.event_name, NEW.dim, NEW.kind, NEW.value WHERE NEW.grain = 'dim_value'
    ON CONFLICT DO NOTHING;
END;

-- The fold writes each counter family's hour and day rows from one statement (rollups/chunk.py: both_grains):
-- the chunk, its sessions and users are read once for both grains. This view takes the rows, `target` naming the
-- table, and its trigger adds each to its table. Nothing is ever stored in the view.
CREATE VIEW IF NOT EXISTS counts_fold AS
  SELECT '' AS target, app_id, '' AS event_name, day AS bucket, 0 AS length_s, events, sessions, users,
    0 AS one_event FROM daily WHERE 0;
CREATE TRIGGER IF NOT EXISTS counts_fold_insert INSTEAD OF INSERT ON counts_fold
BEGIN
  INSERT INTO hourly (app_id, hour, events, sessions, users)
    SELECT NEW.app_id, NEW.bucket, NEW.events, NEW.sessions, NEW.users WHERE NEW.target = 'hourly'
    ON CONFLICT (app_id, hour) DO UPDATE SET events = events + excluded.events,
      sessions = sessions + excluded.sessions, users = users + excluded.users;
  INSERT INTO daily (app_id, day, events, sessions, users)
    SELECT NEW.app_id, NEW.bucket, NEW.events, NEW.sessions, NEW.users WHERE NEW.target = 'daily'
    ON CONFLICT (app_id, day) DO UPDATE SET events = events + excluded.events,
      sessions = sessions + excluded.sessions, users = users + excluded.users;
  INSERT INTO hourly_names (app_id, event_name, hour, events, sessions)
    SELECT NEW.app_id, NEW.event_name, NEW.bucket, NEW.events, NEW.sessions WHERE NEW.target = 'hourly_names'
    ON CONFLICT (app_id, event_name, hour) DO UPDATE SET events = events + excluded.events,
      sessions = sessions + excluded.sessions;
  INSERT INTO daily_names (app_id, day, event_name, events, sessions)
    SELECT NEW.app_id, NEW.bucket, NEW.event_name, NEW.events, NEW.sessions WHERE NEW.target = 'daily_names'
    ON CONFLICT (app_id, day, event_name) DO UPDATE SET events = events + excluded.events,
      sessions = sessions + excluded.sessions;
  INSERT INTO hourly_session_lengths (app_id, hour, length_s, sessions, events, one_event)
    SELECT NEW.app_id, NEW.bucket, NEW.length_s, NEW.sessions, NEW.events, NEW.one_event
    WHERE NEW.target = 'hourly_session_lengths'
    ON CONFLICT (app_id, hour, length_s) DO UPDATE SET sessions = sessions + excluded.sessions,
      events = events + excluded.events, one_event = one_event + excluded.one_event;
  INSERT INTO daily_session_lengths (app_id, day, length_s, sessions, events, one_event)
    SELECT NEW.app_id, NEW.bucket, NEW.length_s, NEW.sessions, NEW.events, NEW.one_event
    WHERE NEW.target = 'daily_session_lengths'
    ON CONFLICT (app_id, day, length_s) DO UPDATE SET sessions = sessions + excluded.sessions,
      events = events + excluded.events, one_event = one_event + excluded.one_event;
  INSERT INTO hourly_new_users (app_id, hour, users)
    SELECT NEW.app_id, NEW.bucket, NEW.users WHERE NEW.target = 'hourly_new_users'
    ON CONFLICT (app_id, hour) DO UPDATE SET users = users + excluded.users;
  INSERT INTO daily_new_users (app_id, day, users)
    SELECT NEW.app_id, NEW.bucket, NEW.users WHERE NEW.target = 'daily_new_users'
    ON CONFLICT (app_id, day) DO UPDATE SET users = users + excluded.users;
  INSERT INTO hourly_new_users_any (hour, users)
    SELECT NEW.bucket, NEW.users WHERE NEW.target = 'hourly_new_users_any'
    ON CONFLICT (hour) DO UPDATE SET users = users + excluded.users;
  INSERT INTO daily_new_users_any (day, users)
    SELECT NEW.bucket, NEW.users WHERE NEW.target = 'daily_new_users_any'
    ON CONFLICT (day) DO UPDATE SET users = users + excluded.users;
END;

-- A purge step (rollups/purge.py) forgets the sessions that ended before the cutoff and the per-user sets of whole
-- hours and days before it in one statement: each of those DELETEs read the step's events again. The statement
-- inserts here what goes, `target` naming it, and the trigger deletes it. Nothing is ever stored in the view.
CREATE VIEW IF NOT EXISTS purge_rows AS
  SELECT '' AS target, app_id, '' AS session_id, event_name, dim, kind, value, day AS bucket FROM daily_dims WHERE 0;
CREATE TRIGGER IF NOT EXISTS purge_rows_insert INSTEAD OF INSERT ON purge_rows
BEGIN
  DELETE FROM session_users WHERE NEW.target = 'session' AND app_id = NEW.app_id AND session_id = NEW.session_id;
  DELETE FROM sessions WHERE NEW.target = 'session' AND app_id = NEW.app_id AND session_id = NEW.session_id;
  DELETE FROM hourly_users WHERE NEW.target = 'hour' AND app_id = NEW.app_id AND hour = NEW.bucket;
  DELETE FROM daily_users WHERE NEW.target = 'day' AND app_id = NEW.app_id AND day = NEW.bucket;
  DELETE FROM daily_dim_users WHERE NEW.target = 'dim_day' AND app_id = NEW.app_id AND event_name = NEW.event_name
    AND dim = NEW.dim AND kind = NEW.kind AND value = NEW.value AND day = NEW.bucket;
END;
