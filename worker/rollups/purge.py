"""Purging expired events: those older than RETENTION_DAYS go, rollups with them. Run daily by the cron trigger
(`on_scheduled`, production only) and on demand through `POST /admin/purge`."""
from rollups import erasure
from tz.timeutil import DAY, HOUR, MS


def cutoff_ms(now_ms, retention_days):
    """Start of the UTC hour `retention_days` ago: whole rollup hours go, none is left half-counted."""
    cutoff = now_ms // MS - retention_days * DAY
    return (cutoff - cutoff % HOUR) * MS


async def purge_expired(db, now_ms, retention_days):
    """Delete events stamped before the cutoff. Returns the erasure payload plus the cutoff (epoch ms)."""
    cutoff = cutoff_ms(now_ms, retention_days)
    result = await erasure.erase(db, erasure.older_than(cutoff))
    return {**result, "cutoff_ms": cutoff}
