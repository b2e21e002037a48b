"""The reference app of the Free-plan day (issue "Fit the Free plan"): an indie app with 1,000 daily users
out of 3,000 monthly, ~3,000 sessions and ~21,000 events a day, read by 50 dashboard visits a day.

Pure and seeded: the same days every run. Traffic is live, in time order, one request per session (as the SDK
batches a session's events); a day's sessions start at random times and last a few minutes.
"""
import random
from urllib.parse import urlencode

APP_ID = "reference-app"
MONTHLY_USERS = 3000
DAILY_USERS = 1000
SESSIONS_PER_USER = 3  # a day: ~3,000 sessions
DAY = 86400
# Eight event names, two in a group; ~7 events per session on average (the first is always App Opened).
NAMES = ["App Opened", "Screen Viewed", "Screen Viewed", "Screen Viewed", "Button Tapped", "Search",
         "Settings Changed", "Shared", "Paywall Shown", "Purchase"]
GROUPS = {"Paywall Shown": "monetisation", "Purchase": "monetisation"}
SCREENS = [f"screen-{i}" for i in range(20)]
PLANS = ["free", "pro", "team"]
VARIANTS = ["a", "b"]
PLATFORMS = ["iOS", "Android", "macOS"]
VERSIONS = ["1.0.0", "1.1.0", "1.2.0", "1.3.0", "2.0.0"]
EVENTS_PER_SESSION = (2, 12)  # uniform: 7 on average

# Each dashboard visit: the reads the dashboard's screens make with their defaults (Last 30 days in the
# viewer's zone, the first app picked), in the order a person opens them: Overview, Breakdowns, Sessions,
# Funnels, Retention, Users, Events.
VISIT_ZONE = "Europe/Berlin"
FUNNEL_STEPS = ["App Opened", "Screen Viewed", "Purchase"]


def visit_paths(today, app_id=APP_ID, zone=VISIT_ZONE):
    """The GET paths of one visit; `today` a date in the viewer's zone."""
    from datetime import timedelta

    scope = {"from": (today - timedelta(days=29)).isoformat(), "to": today.isoformat(), "tz": zone, "app_id": app_id}
    previous = {**scope, "from": (today - timedelta(days=59)).isoformat(),
                "to": (today - timedelta(days=30)).isoformat()}
    year = {"from": (today - timedelta(days=364)).isoformat(), "to": today.isoformat(), "tz": "UTC", "app_id": app_id}

    def path(route, params, *repeated):
        return f"{route}?{urlencode(sorted(params.items()) + list(repeated))}"

    return [
        # Overview
        path("/stats/overview", scope),
        path("/stats/active", {**scope, "interval": "day"}),
        path("/stats/timeline", {**scope, "interval": "day"}),
        path("/stats/timeline", {**previous, "interval": "day"}),
        path("/stats/events", {**scope, "limit": "1000"}),
        path("/stats/heatmap", scope),
        path("/stats/calendar", year),  # the year calendar: active and new users per UTC day
        # Breakdowns (platform first)
        path("/stats/properties", scope),
        path("/stats/breakdown", {**scope, "by": "platform", "limit": "10"}),
        # Sessions
        path("/stats/sessions", scope),
        # Funnels: three steps, each within a day, by user
        path("/stats/funnel", {**scope, "within": "1d", "by": "user"}, *(("step", s) for s in FUNNEL_STEPS)),
        # Retention: the screen's defaults
        path("/stats/retention", {**scope, "cohort": "week", "periods": "8"}),
        # Users and Events: first pages
        path("/users", {**scope, "limit": "25"}),
        path("/events", {**scope, "limit": "50"}),
        path("/settings/aliases", {"app_id": app_id}),
        path("/apps", {"days": "1"}),
    ]


class ReferenceApp:
    """Days of the reference app's traffic: `day(start)` -> its requests' event lists, in time order."""

    def __init__(self, seed=16):
        self.rng = random.Random(seed)
        self.users = [f"u-{i:05d}" for i in range(MONTHLY_USERS)]
        self.serial = 0

    def session(self, user_id, start):
        rng = self.rng
        self.serial += 1
        session_id = f"s-{self.serial:08d}-{rng.getrandbits(32):08x}"
        platform, version = rng.choice(PLATFORMS), rng.choice(VERSIONS)
        plan, variant = rng.choice(PLANS), rng.choice(VARIANTS)
        at = start
        events = []
        for index in range(rng.randint(*EVENTS_PER_SESSION)):
            name = "App Opened" if index == 0 else rng.choice(NAMES[1:])
            properties = {"screen": rng.choice(SCREENS), "plan": plan, "variant": variant}
            if name in GROUPS:
                properties["group"] = GROUPS[name]
            events.append({"event": name, "app_id": APP_ID, "session_id": session_id, "user_id": user_id,
                           "event_id": f"{rng.getrandbits(128):032x}", "timestamp": round(at, 3),
                           "platform": platform, "app_version": version, "properties": properties})
            at += rng.expovariate(1 / 30)
        return events

    def day(self, start):
        """The requests of the UTC day starting at `start` (epoch seconds): one per session, by start time."""
        daily = self.rng.sample(self.users, DAILY_USERS)
        starts = sorted((start + self.rng.random() * (DAY - 3600), user)
                        for user in daily for _ in range(SESSIONS_PER_USER))
        return [self.session(user, at) for at, user in starts]
