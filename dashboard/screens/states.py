"""What the dashboard shows instead of data: setup, unreachable worker, wrong key, empty database, API error."""
import json

import streamlit as st

from dashboard.config import KEY_NAME, URL_NAME

FIRST_EVENT = {"event": "App Opened", "app_id": "my-app", "session_id": "session-1"}


def first_event_command(url):
    return (f"curl -X POST {url}/track \\\n"
            f"  -H 'Content-Type: application/json' \\\n"
            f"  -H 'X-API-KEY: <your AUTH_KEY>' \\\n"
            f"  -d '{json.dumps(FIRST_EVENT)}'")


def not_configured():
    st.warning("**The dashboard is not connected to a worker yet.**", icon=":material/link_off:")
    st.markdown(f"Set `{URL_NAME}` and `{KEY_NAME}` in the environment, or in `.streamlit/secrets.toml`:")
    st.code(f'{URL_NAME} = "https://oddlytics-worker.<you>.workers.dev"\n{KEY_NAME} = "<your AUTH_KEY or READ_KEY>"',
            language="toml")


def unreachable(error):
    st.error(f"**Cannot reach the Oddlytics worker at {error.url}** ({error.reason}).", icon=":material/cloud_off:")
    st.markdown("Is it running, and is the URL right? Locally, `make worker` starts it on http://127.0.0.1:8787. "
                f"The URL comes from `{URL_NAME}`.")


def wrong_key(error):
    st.error(f"**The worker at {error.url} rejected the API key (401).**", icon=":material/key_off:")
    st.markdown(f"Check `{KEY_NAME}`: it must be the worker's `AUTH_KEY` or `READ_KEY` secret. "
                "Locally that is `AUTH_KEY` in `.dev.vars`.")


def api_error(error):
    st.error(f"**The worker answered with an error ({error.status}):** {error.message}", icon=":material/error:")
    for item in error.details[:10]:
        st.caption(f"{item.get('field') or ''}: {item.get('message') or ''}")


def no_events_yet(url):
    st.info("**No events yet.** Send the first one and it shows up here within a minute:", icon=":material/rocket_launch:")
    st.code(first_event_command(url), language="bash")
    st.caption("Locally, `make demo` loads a month of realistic demo events instead.")


def nothing_in_range(what="events"):
    st.info(f"No {what} in this range for this selection. Try a longer range or another app.", icon=":material/search_off:")
