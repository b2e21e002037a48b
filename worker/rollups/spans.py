"""A session's events, without an index entry per event (issue 16: one row written per event less).

There is no index on (app_id, session_id, ...) over every event. Ingest gives each session's new events of a request
consecutive ids, in time order (api/ingest.py), and its latest (the span's *head*, the run's last id) carries
`span_first`, the run's first id: only heads are in `events_session_spans (app_id, session_id, ts, span_first)`, an
entry per request and session. A session's events are the id ranges [span_first, head id] of its heads, read as rows
through the view `session_events` (schema.sql): an index entry per span (the index covers it), then a range of the
table itself. Every writer keeps three rules:

- every event is inside the span of a head of its app and session;
- within a span, time does not decrease with id, so the head is the span's latest event and `span_ts >= t` (the
  head's time) keeps every span holding an event at or after t;
- a head with a user is marked (rollups/marks.py): a purge, which takes unmarked events first, then marked ones,
  then heads (rollups/raw_events.oldest_by_name), can then keep both rules at every step.

A deletion moves a head that goes to the latest remaining event of its span (`keep_spans`). A link moves events to
new ids above every other, each session's moved events in time order, as one span of their own (rollups/links.py,
MOVE_SQL; keep_spans first covers what stays). migrations/0017 cut the existing events into spans the same way:
runs of consecutive ids of one app and session whose time does not decrease.
"""
from sql import Sql


def keep_spans(gone_ids):
    """Before the events `gone_ids` (SQL selecting ids) go: where a head goes and its span keeps events, the latest
    of those (the span's last remaining id) becomes its head, marked if it has a user. Writes only there. NOT INDEXED:
    the span is a range of ids; SQLite otherwise searched events_app_name by app_id alone (every event of the app)."""
    return Sql(f"""UPDATE events SET span_first = k.span_first,
  user_mark = CASE WHEN events.user_id IS NOT NULL THEN 1 ELSE events.user_mark END
FROM (SELECT (SELECT MAX(e.id) FROM events AS e NOT INDEXED WHERE e.id >= h.span_first AND e.id < h.id AND e.app_id = h.app_id
    AND e.session_id = h.session_id AND e.id NOT IN ({gone_ids})) AS id, h.span_first AS span_first
  FROM events AS h WHERE h.id IN ({gone_ids}) AND h.span_first IS NOT NULL) AS k
WHERE events.id = k.id""")
