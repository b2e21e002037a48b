"""GET /stats/heatmap: events by weekday and hour of day in the reader's zone, read from the hourly read."""
from api.params import Scope, local_segments, text_param
from api.web import ok
from rollups import read
from sql import Sql
from tz import zones
from tz.timeutil import DAY, EARLIEST_MS, HOUR, MS, ceil_hour

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def dense_cells(rows):
    """Rows of (dow 0=Sunday as SQLite's %w, hour, events) -> all 168 cells, Monday 00h first."""
    counts = {(r["dow"], r["hour_of_day"]): r["events"] for r in rows}
    return [
        {"weekday": WEEKDAYS[day], "day": day + 1, "hour": hour, "events": counts.get(((day + 1) % 7, hour), 0)}
        for day in range(7) for hour in range(24)
    ]


async def heatmap(ctx):
    scope = Scope(ctx.query, ctx.now_ms, zones.resolve)
    event = text_param(ctx.query, "event")
    table, on = ("hourly_names", Sql(" AND t.event_name = ?", [event])) if event is not None else ("hourly", Sql())
    # Rollups only hold hours from 2000 to a day ahead of now: no zone offsets are needed outside that.
    segments = scope.segments(max(scope.range.start, EARLIEST_MS // MS),
                              min(scope.range.end, ceil_hour(ctx.now_ms // MS + DAY + HOUR)))
    # One D1 call when there is nothing to fold: the fold state and the cells in one batch.
    unfolded, (result,) = await read.fold_tail_and(ctx, [
        "WITH " + local_segments(segments) + """
SELECT CAST(strftime('%w', t.hour + shift, 'unixepoch') AS INTEGER) AS dow,
  CAST(strftime('%H', t.hour + shift, 'unixepoch') AS INTEGER) AS hour_of_day, SUM(t.events) AS events
FROM local_segments CROSS JOIN """ + read.app_source(scope) + f" CROSS JOIN {table} AS t\n  ON t.app_id = a.app_id" + on
        + "\n  AND t.hour >= segment_start AND t.hour < segment_end\nGROUP BY dow, hour_of_day"])
    return ok({"range": scope.as_json(), "event": event, "timezone": scope.zone.name, "cells": dense_cells(result["rows"]),
               **read.freshness(unfolded)})
