"""What the dashboard shows instead of data: setup, unreachable worker, wrong key, empty database, API error."""
import json

import streamlit as st

from dashboard import api, periods, text
from dashboard.config import KEY_NAME, URL_NAME

# A screen opening another (Breakdowns -> Events) does it from a widget callback, where st.switch_page cannot run:
# it names the screen here and app.py switches at the start of the next run.
SWITCH_KEY = "switch_to_screen"
FIRST_EVENT = {"event": "App Opened", "app_id": "my-app", "session_id": "session-1"}


def first_event_command(url):
    return (f"curl -X POST {url}/track \\\n"
            f"  -H 'Content-Type: application/json' \\\n"
            f"  -H 'X-API-KEY: <your AUTH_KEY>' \\\n"
            f"  -d '{json.dumps(FIRST_EVENT)}'")


def open_screen(name):
    """Open the screen `name` on the next run (from a widget callback)."""
    st.session_state[SWITCH_KEY] = name


def raw_events_reach(body, tz):
    """Under a screen that reads raw events (funnels, retention, events, a user's activity): when the worker's
    retention has deleted raw events (`raw_since`) after the start of the range, say how far back it reaches."""
    since = periods.parse_time(body.get("raw_since"), tz)
    start = periods.parse_time((body.get("range") or {}).get("from"), tz)
    if since and (start is None or start < since):
        st.caption(f":material/history: Raw events are kept since {since:%d %b %Y, %H:%M} ({tz}): this screen "
                   "reaches back that far (the retention period deletes older ones; totals elsewhere keep them).")


def not_configured():
    st.warning("**The dashboard is not connected to a worker yet.**", icon=":material/link_off:")
    st.markdown(f"Set `{URL_NAME}` and `{KEY_NAME}` in the environment, or in `.streamlit/secrets.toml`:")
    st.code(f'{URL_NAME} = "https://oddlytics-worker.<you>.workers.dev"\n{KEY_NAME} = "<your AUTH_KEY or READ_KEY>"',
            language="toml")


def failed(error):
    """An error in place of the screen, under the usual title and sidebar, with a way to try again."""
    show = {api.WorkerUnreachable: unreachable, api.WrongKey: wrong_key, api.Redirected: redirected}
    show.get(type(error), api_error)(error)
    # A new cache epoch: the retry reads the worker again instead of an answer cached before the failure.
    st.button("Retry", key="retry", icon=":material/refresh:", on_click=api.refresh)


def unreachable(error):
    st.error(f"**Cannot reach the Oddlytics worker at {text.literal(error.url)}**: {error.reason}.",
             icon=":material/cloud_off:")
    st.markdown("Is it running, and is the URL right? Locally, `make worker` starts it on http://127.0.0.1:8787. "
                f"The URL comes from `{URL_NAME}`.")


def wrong_key(error):
    st.error(f"**The worker at {text.literal(error.url)} did not accept the API key.**", icon=":material/key_off:")
    st.markdown(f"Check `{KEY_NAME}`: it must be the worker's `AUTH_KEY` or `READ_KEY` secret. "
                "Locally that is `AUTH_KEY` in `.dev.vars`.")


def redirected(error):
    st.error(f"**The worker URL {text.literal(error.url)} redirects to {text.literal(error.target)}.**",
             icon=":material/alt_route:")
    st.markdown(f"The dashboard does not follow redirects, so the API key is never sent anywhere else. If that "
                f"address is your worker, set `{URL_NAME}` to it.")


def api_error(error):
    what = "did not accept this request" if 400 <= error.status < 500 else "could not answer"
    st.error(f"**The worker {what}:** {text.literal(error.message)}", icon=":material/error:")
    for item in error.details[:10]:
        st.caption(text.literal(f"{item.get('field') or ''}: {item.get('message') or ''}"))
    if error.status >= 500:
        st.caption("This is usually temporary; try again in a moment. The worker's log says more.")


def no_events_yet(url):
    st.info("**No events yet.** Send the first one, then reload this page:", icon=":material/rocket_launch:")
    st.code(first_event_command(url), language="bash")
    st.caption("Locally, `make demo` loads two months of realistic demo events instead.")


def still_folding(unfolded, every_minutes=None):
    if every_minutes:
        # The worker counts events in once per interval (FOLD_EVERY_MINUTES): the Free plan's rows written.
        st.caption(f":material/hourglass_top: {text.plural(unfolded, 'event')} stored but not yet in the "
                   f"statistics: the worker counts events in once every {text.plural(every_minutes, 'minute')}, after "
                   "the interval they arrived in (FOLD_EVERY_MINUTES in the README). Figures may be short of them "
                   "until then.")
        return
    st.caption(f":material/hourglass_top: {text.plural(unfolded, 'event')} stored but not yet in the statistics "
               "(the worker adds them in steps, on every read and every few minutes): figures may be short of "
               "them. **Refresh** in a moment.")


def nothing_in_range(what="events"):
    st.info(f"No {what} in this range for this selection. Try a longer range or another app.", icon=":material/search_off:")


def needs_worker(missing):
    st.info(f"This needs a newer worker: the one configured has no {text.literal(missing.path)} route yet. "
            "Deploy the worker of this dashboard's version.", icon=":material/upgrade:")


def unless_missing(read):
    """`read()`, or None after saying which route the worker lacks (an older worker than this dashboard)."""
    try:
        return read()
    except api.MissingRoute as missing:
        needs_worker(missing)
        return None


FIGURE_NAMES = {"users": "users", "median_duration_s": "median duration", "p90_duration_s": "90th percentile",
                "active": "active users", "returning": "returning users", "dau": "daily active users",
                "wau": "weekly active users", "mau": "monthly active users", "platforms": "platforms",
                "app_versions": "app versions"}


def estimated(figures):
    """The worker declares which figures are estimates (sketches, samples, duration buckets): say so."""
    names = sorted(FIGURE_NAMES.get(name, name.replace("_", " ")) for name in figures)
    # Field names from the worker's answer (not event data).
    st.caption(f":material/info: Estimated, not exact: {', '.join(names)} (the worker's README says how close).")


# Users of SDKs that send no user id (Aptabase's, the web snippet, /track with daily_users): the worker names
# them daily:<hash>, one per device, app and UTC day (issue 17). Said wherever users are counted or listed.
DAILY = "daily:"
DAILY_NOTE = (":material/info: `daily:` users are daily visitors: devices of apps that send no user id, counted "
              "once per app and UTC day. They do not link across days, so over longer ranges they count "
              "device-days, not people.")
