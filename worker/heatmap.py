"""GET /stats/heatmap: events by weekday and hour of day (UTC), read from the hourly rollup."""
from filters import Scope, text_param
from web import ok

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def dense_cells(rows):
    """Rows of (dow 0=Sunday as SQLite's %w, hour, events) -> all 168 cells, Monday 00h first."""
    counts = {(r["dow"], r["hour_of_day"]): r["events"] for r in rows}
    return [
        {"weekday": WEEKDAYS[day], "day": day + 1, "hour": hour, "events": counts.get(((day + 1) % 7, hour), 0)}
        for day in range(7) for hour in range(24)
    ]


async def heatmap(ctx):
    scope = Scope(ctx.query, ctx.now_ms)
    event = text_param(ctx.query, "event")
    where, params = scope.where(scope.range.start, scope.range.end)
    if event is not None:
        where += " AND event_name = ?"
        params.append(event)
    rows = await ctx.db.query(
        f"""SELECT CAST(strftime('%w', hour, 'unixepoch') AS INTEGER) AS dow,
  CAST(strftime('%H', hour, 'unixepoch') AS INTEGER) AS hour_of_day, SUM(events) AS events
FROM hourly_events WHERE {where} GROUP BY dow, hour_of_day""",
        *params,
    )
    return ok({"range": scope.as_json(), "event": event, "timezone": "UTC", "cells": dense_cells(rows)})
