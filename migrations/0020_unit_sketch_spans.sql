-- Issue 16: unit_sketches (migration 0019) also keeps spans: the complete local days a WAU or MAU window or a week
-- bucket of /stats/active merges together, stored as one sketch (rollups/unit_cache.py), so a later read decodes one
-- sketch per window instead of one per day. Spans are up to 32 days long where units were up to 26 hours: the
-- triggers that forget a unit when a sketch inside it changes seek that much further back. Rows already kept stay
-- valid (they are single days, which both bounds cover).
DROP TRIGGER IF EXISTS unit_sketches_hourly_update;
DROP TRIGGER IF EXISTS unit_sketches_hourly_delete;
DROP TRIGGER IF EXISTS unit_sketches_daily_update;
DROP TRIGGER IF EXISTS unit_sketches_daily_delete;

-- A changed hour [h, h + 1 hour) invalidates the units overlapping it: hi > h AND lo < h + 1 hour; a changed day
-- [d, d + 1 day) the units that hold it whole (a unit reads a daily row only for a whole UTC day inside it, its other
-- hours from `hourly`): lo <= d AND hi >= d + 1 day. Units are at most 32 days long (a local day, or a span of the
-- local days a WAU or MAU window or a week merges: unit_cache.MAX_UNIT_SECONDS), which bounds the seek of the primary
-- key (hi < the hour's or day's start + 32 days + 1 hour).
CREATE TRIGGER IF NOT EXISTS unit_sketches_hourly_update AFTER UPDATE OF sketch ON hourly
BEGIN
  DELETE FROM unit_sketches WHERE scope IN (NEW.app_id, '', 'debug:')
    AND hi > NEW.hour AND hi < NEW.hour + 2768400 AND lo < NEW.hour + 3600;
END;
CREATE TRIGGER IF NOT EXISTS unit_sketches_hourly_delete AFTER DELETE ON hourly
BEGIN
  DELETE FROM unit_sketches WHERE scope IN (OLD.app_id, '', 'debug:')
    AND hi > OLD.hour AND hi < OLD.hour + 2768400 AND lo < OLD.hour + 3600;
END;
CREATE TRIGGER IF NOT EXISTS unit_sketches_daily_update AFTER UPDATE OF sketch ON daily
BEGIN
  DELETE FROM unit_sketches WHERE scope IN (NEW.app_id, '', 'debug:')
    AND hi >= NEW.day + 86400 AND hi < NEW.day + 2768400 AND lo <= NEW.day;
END;
CREATE TRIGGER IF NOT EXISTS unit_sketches_daily_delete AFTER DELETE ON daily
BEGIN
  DELETE FROM unit_sketches WHERE scope IN (OLD.app_id, '', 'debug:')
    AND hi >= OLD.day + 86400 AND hi < OLD.day + 2768400 AND lo <= OLD.day;
END;
