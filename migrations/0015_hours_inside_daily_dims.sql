-- Issue 16: breakdown counters per hour move inside the day rows. hourly_dims held a row per key and hour, written
-- beside the key's day row at every fold step (about a fifth of the reference day's rows written) and half the
-- storage of two years of aggregates. daily_dims.hours now holds the day's hours as a JSON object
-- {"<hour of the day, 0-23>": [events, sessions]}, hours at zero left out; the ends of a local-zone range read them.
ALTER TABLE daily_dims ADD COLUMN hours TEXT;
-- A key with hour rows and no day row (none is expected: both were written together) keeps its counts.
INSERT OR IGNORE INTO daily_dims (app_id, event_name, dim, kind, value, day, events, sessions, users)
  SELECT app_id, event_name, dim, kind, value, hour - hour % 86400, SUM(events), SUM(sessions), 0 FROM hourly_dims
  GROUP BY app_id, event_name, dim, kind, value, hour - hour % 86400;
UPDATE daily_dims SET hours = (SELECT json_group_object(CAST((h.hour - daily_dims.day) / 3600 AS TEXT),
    json_array(h.events, h.sessions)) FROM hourly_dims h WHERE h.app_id = daily_dims.app_id
    AND h.event_name = daily_dims.event_name AND h.dim = daily_dims.dim AND h.kind = daily_dims.kind
    AND h.value = daily_dims.value AND h.hour >= daily_dims.day AND h.hour < daily_dims.day + 86400
    AND (h.events != 0 OR h.sessions != 0));
DROP TRIGGER IF EXISTS dims_fold_insert;
DROP VIEW IF EXISTS dims_fold;
DROP TABLE IF EXISTS hourly_dims;
CREATE VIEW IF NOT EXISTS dims_fold AS
  SELECT '' AS grain, app_id, event_name, dim, kind, value, day AS bucket, events, sessions, users, 0 AS sample,
    '' AS user_id, hours FROM daily_dims WHERE 0;
CREATE TRIGGER IF NOT EXISTS dims_fold_insert INSTEAD OF INSERT ON dims_fold
BEGIN
  INSERT INTO daily_dims (app_id, event_name, dim, kind, value, day, events, sessions, users, hours)
    SELECT NEW.app_id, NEW.event_name, NEW.dim, NEW.kind, NEW.value, NEW.bucket, NEW.events, NEW.sessions, NEW.users,
      NEW.hours
    WHERE NEW.grain = 'day'
    ON CONFLICT (app_id, event_name, dim, kind, value, day) DO UPDATE SET events = events + excluded.events,
      sessions = sessions + excluded.sessions, users = users + excluded.users, hours =
        CASE WHEN excluded.hours = '{}' THEN daily_dims.hours
        WHEN (SELECT COUNT(*) FROM json_each(excluded.hours)) = 1 THEN (SELECT CASE WHEN e = 0 AND s = 0 THEN json_remove(COALESCE(daily_dims.hours, '{}'), p)
        ELSE json_set(COALESCE(daily_dims.hours, '{}'), p, json_array(e, s)) END FROM (SELECT '$."' || key || '"' AS p,
        COALESCE(json_extract(daily_dims.hours, '$."' || key || '"' || '[0]'), 0) + json_extract(value, '$[0]') AS e,
        COALESCE(json_extract(daily_dims.hours, '$."' || key || '"' || '[1]'), 0) + json_extract(value, '$[1]') AS s FROM json_each(excluded.hours))) ELSE (SELECT json_group_object(h, json_array(e, s)) FROM (SELECT key AS h,
        SUM(json_extract(value, '$[0]')) AS e, SUM(json_extract(value, '$[1]')) AS s FROM (
        SELECT key, value FROM json_each(daily_dims.hours) UNION ALL SELECT key, value FROM json_each(excluded.hours)) GROUP BY key)
        WHERE e != 0 OR s != 0) END;
  INSERT INTO daily_user_dims (app_id, day, sample, user_id, dims)
    SELECT NEW.app_id, NEW.bucket, NEW.sample, NEW.user_id, NEW.value WHERE NEW.grain = 'user'
    ON CONFLICT (app_id, day, sample, user_id) DO UPDATE SET dims = excluded.dims;
  INSERT INTO dim_values (app_id, event_name, dim, kind, value)
    SELECT NEW.app_id, NEW.event_name, NEW.dim, NEW.kind, NEW.value WHERE NEW.grain = 'dim_value'
    ON CONFLICT DO NOTHING;
END;
