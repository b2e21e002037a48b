-- Issue 16: merged users sketches of local days, kept by /stats/active (routes/active.py, rollups/unit_cache.py).
-- A local day outside UTC is 24 hourly sketches of two UTC days; merging them was most of the worker's CPU for 30
-- days of active users in Berlin (~26 ms a request). A read that merged a complete local day keeps the result here,
-- so later reads merge one stored sketch per past day. A row is a pure function of the hourly and daily sketches
-- in [lo, hi) of its scope: the triggers below delete it whenever one of those changes (a fold, a late event, a
-- rebuild after an erasure, a deletion of rollup rows), whoever changes it. Scope: an app id, '' for every release
-- app, 'debug:' for every debug twin (no app id is empty, so no twin is 'debug:').
CREATE TABLE IF NOT EXISTS unit_sketches (
  scope TEXT NOT NULL,
  hi INTEGER NOT NULL,        -- end of the unit, epoch seconds (exclusive, a whole hour)
  lo INTEGER NOT NULL,        -- start of the unit, epoch seconds (a whole hour; a unit spans at most 26 hours)
  sketch TEXT NOT NULL,       -- hll.Sketch.encode() of the merge
  users INTEGER NOT NULL,     -- its estimate (hll.Sketch.estimate), the unit's own active users
  PRIMARY KEY (scope, hi, lo)
) WITHOUT ROWID;

-- A changed hour [h, h + 1 hour) invalidates the units overlapping it: hi > h AND lo < h + 1 hour; a changed day
-- [d, d + 1 day) the units that hold it whole (a unit reads a daily row only for a whole UTC day inside it, its other
-- hours from `hourly`): lo <= d AND hi >= d + 1 day. Units are at most 26 hours long, which bounds the seek of the
-- primary key (hi < the bucket's end + 26 hours).
CREATE TRIGGER IF NOT EXISTS unit_sketches_hourly_update AFTER UPDATE OF sketch ON hourly
BEGIN
  DELETE FROM unit_sketches WHERE scope IN (NEW.app_id, '', 'debug:')
    AND hi > NEW.hour AND hi < NEW.hour + 97200 AND lo < NEW.hour + 3600;
END;
CREATE TRIGGER IF NOT EXISTS unit_sketches_hourly_delete AFTER DELETE ON hourly
BEGIN
  DELETE FROM unit_sketches WHERE scope IN (OLD.app_id, '', 'debug:')
    AND hi > OLD.hour AND hi < OLD.hour + 97200 AND lo < OLD.hour + 3600;
END;
CREATE TRIGGER IF NOT EXISTS unit_sketches_daily_update AFTER UPDATE OF sketch ON daily
BEGIN
  DELETE FROM unit_sketches WHERE scope IN (NEW.app_id, '', 'debug:')
    AND hi >= NEW.day + 86400 AND hi < NEW.day + 180000 AND lo <= NEW.day;
END;
CREATE TRIGGER IF NOT EXISTS unit_sketches_daily_delete AFTER DELETE ON daily
BEGIN
  DELETE FROM unit_sketches WHERE scope IN (OLD.app_id, '', 'debug:')
    AND hi >= OLD.day + 86400 AND hi < OLD.day + 180000 AND lo <= OLD.day;
END;
