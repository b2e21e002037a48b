-- Issue 16: the keys each session had are recomputed from the session's raw events (worker/rollups/dims.py)
-- instead of being stored: `session_dims` was half the fold's rows written and a third of the storage.
-- The breakdown counters it fed (hourly_dims, daily_dims) are unchanged.
DROP TABLE IF EXISTS session_dims;
