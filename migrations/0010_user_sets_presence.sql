-- Issue 16: a breakdown user set row says that the user had the key that day; it no longer counts their events.
-- The fold inserts only users new to the key that day (an upsert adding to the count cost a row written every
-- time a user came back the same day: ~8,000 a day for the reference app), and erasure asks the user's remaining
-- events of that day whether they still have the key (rollups/dims.py). `events` stays, always 1 from now on.
DROP TRIGGER IF EXISTS dims_fold_insert;
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
    ON CONFLICT DO NOTHING;
  INSERT INTO dim_values (app_id, event_name, dim, kind, value)
    SELECT NEW.app_id, NEW.event_name, NEW.dim, NEW.kind, NEW.value WHERE NEW.grain = 'dim_value'
    ON CONFLICT DO NOTHING;
END;
