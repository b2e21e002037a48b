-- Issue 16: breakdown admission, counters, per-user sets and markers in one fold statement (see schema.sql).
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
