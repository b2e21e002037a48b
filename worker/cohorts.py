"""GET /stats/retention (placeholder)."""


async def stats_retention(ctx):
    raise NotImplementedError
