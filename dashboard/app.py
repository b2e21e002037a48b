"""Oddlytics dashboard: `streamlit run dashboard/app.py` with ODDLYTICS_API_URL and ODDLYTICS_API_KEY set."""
import os
import sys
from datetime import date, timedelta
from pathlib import Path

# `streamlit run` puts only this folder on sys.path; the modules import as the `dashboard` package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import streamlit as st  # noqa: E402

from dashboard import api, config, periods  # noqa: E402
from dashboard.screens import apps, explorer, overview, states, users  # noqa: E402

ALL_APPS = "All apps"
SCREENS = {
    "Overview": (":material/monitoring:", overview.render),
    "Apps": (":material/apps:", apps.render),
    "Events": (":material/list_alt:", explorer.render),
    "Users": (":material/group:", users.render),
}
STYLE = """
<style>
  [data-testid="stMetric"] { background: var(--secondary-background-color); border-radius: 0.8rem; }
  [data-testid="stMetricValue"] { font-weight: 650; }
  .block-container { padding-top: 2.2rem; }
</style>
"""


def load_settings():
    secrets = st.secrets if st.secrets.load_if_toml_exists() else {}
    return config.resolve(os.environ, secrets)


def remember_query_params():
    """Links carry the screen, app and range (?screen=Users&app=my-app&range=Last+7+days)."""
    if st.session_state.get("query_params_read"):
        return
    st.session_state["query_params_read"] = True
    wanted = {"screen": st.query_params.get("screen"), "app": st.query_params.get("app"),
              "range": st.query_params.get("range")}
    for key, value in wanted.items():
        if value:
            st.session_state[key] = value


def sidebar(reader_settings, app_ids):
    with st.sidebar:
        st.markdown("## :material/insights: Oddlytics")
        if st.session_state.get("screen") not in SCREENS:
            st.session_state["screen"] = "Overview"
        screen = st.radio("Screen", list(SCREENS), key="screen", label_visibility="collapsed",
                          format_func=lambda name: f"{SCREENS[name][0]} {name}")
        st.divider()
        options = [ALL_APPS, *app_ids]
        if st.session_state.get("app") not in options:
            st.session_state["app"] = ALL_APPS
        app = st.selectbox("App", options, key="app")
        if st.session_state.get("range") not in periods.RANGE_CHOICES:
            st.session_state["range"] = periods.DEFAULT_RANGE
        choice = st.selectbox("Range", periods.RANGE_CHOICES, key="range")
        custom = None
        tz = viewer_zone(reader_settings)
        today = periods.today_in(tz)
        if choice == periods.CUSTOM:
            custom = st.date_input(f"From – to ({tz}, inclusive)", periods.default_custom_range(today),
                                   min_value=date(2000, 1, 1), max_value=today + timedelta(days=1), key="custom_range")
            if not isinstance(custom, tuple) or len(custom) != 2:
                st.caption("Pick an end date.")
                custom = (custom[0], custom[0]) if custom else periods.default_custom_range(today)
        # A callback runs before the next script run, so every read of that run is fresh.
        st.button("Refresh", icon=":material/refresh:", key="refresh", width="stretch", on_click=api.clear_cache)
        st.caption(f"Worker: {reader_settings.url}  \nReads are cached for {api.CACHE_SECONDS} s · times in {tz}")
    st.query_params.update(screen=screen, app=app, range=choice)
    scope = periods.range_params(choice, tz, today, custom)
    if app != ALL_APPS:
        scope["app_id"] = app
    return screen, scope


def viewer_zone(settings):
    """ODDLYTICS_TIMEZONE, else the browser's zone (None under AppTest and before the browser reports it), else UTC."""
    return periods.zone_name(settings.timezone, getattr(st.context, "timezone", None))


def render(settings):
    all_apps = api.Reader(settings, {}).all_apps()
    if not all_apps:
        st.title("Oddlytics")
        states.no_events_yet(settings.url)
        return
    screen, scope = sidebar(settings, [a["app_id"] for a in all_apps])
    reader = api.Reader(settings, scope)
    header(screen, scope)
    SCREENS[screen][1](reader, {k: v for k, v in scope.items() if k != "app_id"})


def header(screen, scope):
    what = scope.get("app_id", ALL_APPS)
    st.title(screen)
    dates = "" if "days" in scope else f"{scope['from']} → {scope['to']}"
    choice = st.session_state["range"]
    shown = dates if choice == periods.CUSTOM else f"{choice.lower()}{' · ' + dates if dates else ''}"
    st.caption(f"{what} · {shown} · {scope['tz']}")


def main():
    st.set_page_config(page_title="Oddlytics", page_icon=":material/insights:", layout="wide")
    st.markdown(STYLE, unsafe_allow_html=True)
    settings = load_settings()
    if settings is None:
        st.title("Oddlytics")
        states.not_configured()
        return
    remember_query_params()
    try:
        render(settings)
    except api.WorkerUnreachable as error:
        states.unreachable(error)
    except api.WrongKey as error:
        states.wrong_key(error)
    except api.ApiError as error:
        states.api_error(error)


main()
