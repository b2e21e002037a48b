"""GET /health: liveness plus the schema version, without a key."""
from api.web import ok


async def get_health(ctx):
    row = await ctx.db.first("SELECT value FROM meta WHERE key = 'schema_version'")
    return ok({"status": "ok", "schema_version": int(row["value"]) if row else None})
