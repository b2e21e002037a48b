-- Issue 16: which breakdown keys and event names each session had are recomputed from the session's raw events
-- (through events_app_session; worker/rollups/dims.py and counters.py) instead of being stored per session:
-- `session_dims` and `session_events` were half the fold's rows written, most of a purge's, and a third of the
-- storage. The counters they fed (hourly/daily names and dims) are unchanged.
DROP TABLE IF EXISTS session_dims;
DROP TABLE IF EXISTS session_events;
