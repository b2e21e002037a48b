"""Oddlytics dashboard: `streamlit run dashboard/app.py` with ODDLYTICS_API_URL and ODDLYTICS_API_KEY set."""
import os
import sys
from pathlib import Path

# `streamlit run` puts only this folder on sys.path; the modules import as the `dashboard` package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import streamlit as st  # noqa: E402

from dashboard import api, config, periods, shapes, text  # noqa: E402
from dashboard.screens import apps, behaviour, breakdowns, explorer, overview, states, users  # noqa: E402

ALL_APPS = "All apps"
DEBUG = "Debug"
BUILDS = ("Release", DEBUG)
SCREENS = {
    "Overview": (":material/monitoring:", overview.render),
    "Breakdowns": (":material/bar_chart:", breakdowns.render),
    "Sessions": (":material/timer:", behaviour.render_sessions),
    "Funnels": (":material/filter_alt:", behaviour.render_funnel),
    "Retention": (":material/event_repeat:", behaviour.render_retention),
    "Apps": (":material/apps:", apps.render),
    "Events": (":material/list_alt:", explorer.render),
    "Users": (":material/group:", users.render),
}
STYLE = """
<style>
  [data-testid="stMetric"] { background: var(--secondary-background-color); border-radius: 0.8rem; }
  [data-testid="stMetricValue"] { font-weight: 650; }
  .block-container { padding-top: 2.2rem; }
  /* Event data is an inline code span (text.literal: no Markdown extension looks inside one); shown as the
     text around it, not as a green code chip. Code blocks (st.code) keep their look. */
  :is([data-testid="stMarkdownContainer"], [data-testid="stCaptionContainer"], [data-testid="stMarkdown"])
    :not(pre) > code {
    color: inherit !important; background: none !important; padding: 0 !important; font-family: inherit !important;
    font-size: inherit !important; white-space: pre-wrap;
  }
  /* A phone (390 px): metric cards two per row, not one a screen (`cards_*` containers hold their columns). */
  @media (max-width: 640px) {
    [class*="st-key-cards_"] [data-testid="stHorizontalBlock"] { flex-wrap: wrap !important; gap: 0.5rem !important; }
    [class*="st-key-cards_"] [data-testid="stColumn"] {
      min-width: calc(50% - 0.25rem) !important; max-width: calc(50% - 0.25rem) !important;
      flex: 1 1 calc(50% - 0.25rem) !important; width: calc(50% - 0.25rem) !important;
    }
    [class*="st-key-cards_"] [data-testid="stMetric"] { padding: 0.6rem 0.7rem !important; }
    [class*="st-key-cards_"] [data-testid="stMetricValue"] { font-size: 1.5rem !important; }
    [class*="st-key-cards_"] [data-testid="stMetricLabel"] p { white-space: normal !important; }
  }
  /* No change against the previous period: a grey delta without an arrow (overview.kpi). */
  [class*="st-key-flat_delta_"] [data-testid^="stMetricDeltaIcon"] { display: none; }
</style>
"""


def load_settings():
    secrets = st.secrets if st.secrets.load_if_toml_exists() else {}
    return config.resolve(os.environ, secrets)


def remember_query_params(settings):
    """Links carry the screen, app and range, and a custom range's dates
    (?screen=Users&app=my-app&range=Custom&from=2024-03-01&to=2024-03-31)."""
    if st.session_state.get("query_params_read"):
        return
    st.session_state["query_params_read"] = True
    for key in ("screen", "app", "range", "builds"):
        if st.query_params.get(key):
            st.session_state[key] = st.query_params[key]
    if st.query_params.get("user"):
        st.session_state[users.PAGE_KEY] = st.session_state[users.LINKED_KEY] = st.query_params["user"]
    if st.query_params.get("event"):
        st.session_state[explorer.EVENT_KEY] = st.query_params["event"]
    dates = periods.custom_dates(st.query_params.get("from"), st.query_params.get("to"),
                                  periods.today_in(viewer_zone(settings)))
    if dates:
        st.session_state["custom_range"] = dates


def sidebar(settings, app_ids, names):
    with st.sidebar:
        st.markdown("## :material/insights: Oddlytics")
        if st.session_state.get("screen") not in SCREENS:
            st.session_state["screen"] = "Overview"
        screen = st.radio("Screen", list(SCREENS), key="screen", label_visibility="collapsed",
                          format_func=lambda name: f"{SCREENS[name][0]} {name}")
        st.divider()
        options = [ALL_APPS, *app_ids]
        # Written back even when unchanged: a widget whose labels change (an app renamed) is a new widget
        # to Streamlit, which would start it at "All apps"; a value set in code carries over.
        st.session_state["app"] = st.session_state.get("app") if st.session_state.get("app") in options else ALL_APPS
        app = st.selectbox("App", options, key="app",
                           format_func=lambda a: a if a == ALL_APPS else shapes.app_label(a, names))
        if st.session_state.get("builds") not in BUILDS:
            st.session_state["builds"] = BUILDS[0]
        # Debug builds' events are kept apart by the worker (isDebug from an SDK, "debug": true on /track).
        builds = st.radio("Builds", BUILDS, key="builds", horizontal=True,
                          help="Release figures, or the events of debug builds, which never mix with them")
        if st.session_state.get("range") not in periods.RANGE_CHOICES:
            st.session_state["range"] = periods.DEFAULT_RANGE
        choice = st.selectbox("Range", periods.RANGE_CHOICES, key="range")
        tz = viewer_zone(settings)
        today = periods.today_in(tz)
        custom = custom_range_picker(tz, today) if choice == periods.CUSTOM else None
        # A callback runs before the next script run, so every read of that run is fresh.
        st.button("Refresh", icon=":material/refresh:", key="refresh", width="stretch", on_click=api.refresh)
        st.caption(f"Worker: {text.literal(settings.url)}  \nReads are cached for {api.CACHE_SECONDS} s "
                   f"(the app list for {api.APP_LIST_SECONDS} s) · times in {tz}")
    link = {"screen": screen, "app": app, "range": choice}
    if builds == DEBUG:
        link["builds"] = DEBUG
    if screen == "Users" and st.session_state.get(users.PAGE_KEY):
        link["user"] = st.session_state[users.PAGE_KEY]
    if screen == "Events" and st.session_state.get(explorer.EVENT_KEY) not in (None, explorer.ANY_EVENT):
        link["event"] = st.session_state[explorer.EVENT_KEY]  # e.g. picked on Breakdowns
    if custom:
        link.update({"from": custom[0].isoformat(), "to": custom[1].isoformat()})
    st.query_params.from_dict(link)
    scope = periods.range_params(choice, tz, today, custom)
    if app != ALL_APPS:
        scope["app_id"] = app
    if builds == DEBUG:
        scope["debug"] = "true"
    return screen, scope


def custom_range_picker(tz, today):
    """Whole local days up to today (there is no data from tomorrow)."""
    picked = st.session_state.get("custom_range")
    if not isinstance(picked, (tuple, list)) or not picked or any(day > today for day in picked):
        st.session_state["custom_range"] = periods.default_custom_range(today)
    custom = st.date_input(f"From – to ({tz}, inclusive)", min_value=periods.EARLIEST_DAY, max_value=today,
                           key="custom_range")
    if not isinstance(custom, (tuple, list)) or len(custom) != 2:
        st.caption("Pick an end date.")
        custom = (custom[0], custom[0]) if custom else periods.default_custom_range(today)
    return tuple(custom)


def viewer_zone(settings):
    """ODDLYTICS_TIMEZONE, else the browser's zone (None under AppTest and before the browser reports it), else UTC."""
    return periods.zone_name(settings.timezone, getattr(st.context, "timezone", None))


def apps_or_error(settings):
    """The picker's apps, or the error that stops every screen (the sidebar still shows)."""
    wanted = st.session_state.get("app")
    scope = {"debug": "true"} if st.session_state.get("builds") == DEBUG else {}
    try:
        return api.Reader(settings, scope).all_apps(wanted=None if wanted == ALL_APPS else wanted), None
    except api.DashboardError as error:
        # Keep the app of the link in the picker, so Retry comes back to the same view.
        return ([{"app_id": wanted}] if wanted and wanted != ALL_APPS else []), error


def render(settings):
    apps_listed, error = apps_or_error(settings)
    if not apps_listed and error is None:
        st.title("Oddlytics")
        states.no_events_yet(settings.url)
        return
    names = {a["app_id"]: a.get("display_name") for a in apps_listed}
    screen, scope = sidebar(settings, list(names), names)
    header(screen, scope, next((a for a in apps_listed if a["app_id"] == scope.get("app_id")), None))
    notice = st.empty()  # filled once the screen's reads have said whether they are complete
    try:
        if error:
            raise error
        reader = api.Reader(settings, scope)
        with st.spinner(f"Loading {screen.lower()} …"):
            SCREENS[screen][1](reader, {k: v for k, v in scope.items() if k != "app_id"})
    except api.MissingRoute as missing:
        states.needs_worker(missing)
        return
    except api.DashboardError as failure:
        states.failed(failure)
        return
    if reader.unfolded_events or reader.estimated_elsewhere:
        with notice.container():
            if reader.unfolded_events:
                states.still_folding(reader.unfolded_events)
            if reader.estimated_elsewhere:
                states.estimated(reader.estimated_elsewhere)


def header(screen, scope, app=None):
    what = text.literal(scope["app_id"]) if "app_id" in scope else ALL_APPS
    if app and app.get("display_name"):
        what = f"{text.literal(app['display_name'])} ({what})"
    icon = shapes.https_icon(app.get("icon_url")) if app else None
    if icon:
        picture, title = st.columns([1, 15], vertical_alignment="center")
        picture.image(icon, width=48)
        with title:
            st.title(screen)
    else:
        st.title(screen)
    if scope.get("debug"):
        what += " · :orange-badge[debug builds]"
    dates = "" if "days" in scope else f"{scope['from']} → {scope['to']}"
    choice = st.session_state["range"]
    shown = dates if choice == periods.CUSTOM else f"{choice.lower()}{' · ' + dates if dates else ''}"
    st.caption(f"{what} · {shown} · {scope['tz']}")


# A file of our own: a `:material/…:` page icon makes the browser fetch it from fonts.gstatic.com, and the
# dashboard fetches nothing from another host (it works offline and tells no third party who opens it).
FAVICON = Path(__file__).resolve().parent / "favicon.png"


def main():
    st.set_page_config(page_title="Oddlytics", page_icon=str(FAVICON), layout="wide")
    st.markdown(STYLE, unsafe_allow_html=True)
    settings = load_settings()
    if settings is None:
        st.title("Oddlytics")
        states.not_configured()
        return
    remember_query_params(settings)
    render(settings)


main()
