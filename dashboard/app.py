"""Oddlytics dashboard: `streamlit run dashboard/app.py` with ODDLYTICS_API_URL and ODDLYTICS_API_KEY set."""
import json
import os
import sys
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

# `streamlit run` puts only this folder on sys.path; the modules import as the `dashboard` package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import streamlit as st  # noqa: E402
import streamlit.components.v1 as components  # noqa: E402

from dashboard import api, config, periods, shapes, text  # noqa: E402
from dashboard.screens import apps, behaviour, breakdowns, explorer, overview, states, users  # noqa: E402

ALL_APPS = "All apps"
DEBUG = "Debug"
BUILDS = ("Release", DEBUG)
# Each screen is a page of its own (st.navigation): its URL path is the name in lower case, the Overview's "/".
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
HOME = "Overview"
SIDEBAR_KEYS = ("app", "builds", "range", "custom_range")
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
  .st-key-address { display: none; }
  /* No change against the previous period: a grey delta without an arrow (overview.kpi). */
  [class*="st-key-flat_delta_"] [data-testid^="stMetricDeltaIcon"] { display: none; }
</style>
"""


def load_settings():
    secrets = st.secrets if st.secrets.load_if_toml_exists() else {}
    return config.resolve(os.environ, secrets)


def url_path(screen):
    return screen.lower()


def remember_query_params(settings):
    """Links carry the app and range, and a custom range's dates (/users?app=my-app&range=Custom&from=2024-03-01
    &to=2024-03-31); the screen is the path. Returns the screen an older link names (?screen=Users), if any."""
    if st.session_state.get("query_params_read"):
        return None
    st.session_state["query_params_read"] = True
    for key in ("app", "range", "builds"):
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
    linked = st.query_params.get("screen")
    return next((name for name in SCREENS if name.lower() == str(linked).strip().lower()), None)


def page_links(pages):
    """The screens, as links: each opens its own URL, so the browser's Back and Forward move between them."""
    st.markdown("## :material/insights: Oddlytics")
    for page in pages.values():
        st.page_link(page, width="stretch")
    st.divider()


def sidebar(settings, screen, app_ids, names):
    with st.sidebar:
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
    link = {"app": app, "range": choice}
    if builds == DEBUG:
        link["builds"] = DEBUG
    if screen == "Users" and st.session_state.get(users.PAGE_KEY):
        link["user"] = st.session_state[users.PAGE_KEY]
    if screen == "Events" and st.session_state.get(explorer.EVENT_KEY) not in (None, explorer.ANY_EVENT):
        link["event"] = st.session_state[explorer.EVENT_KEY]  # e.g. picked on Breakdowns
    if custom:
        link.update({"from": custom[0].isoformat(), "to": custom[1].isoformat()})
    with st.sidebar:
        st.caption("Link to this view")
        st.code(view_link(screen, link), language=None, wrap_lines=True)
        keep_address(screen, link)
    scope = periods.range_params(choice, tz, today, custom)
    if app != ALL_APPS:
        scope["app_id"] = app
    if builds == DEBUG:
        scope["debug"] = "true"
    return scope


# The address bar holds the view's query (?app=…&range=…) so that a reload or a copied address keeps it. Not
# through st.query_params: Streamlit's page switch pushes the page's bare path, and each query write pushes
# another history entry, so Back would land on the bare path, whose run writes the query again (a new entry,
# Forward lost). This replaces the current entry's query instead. The text is urlencode's (letters, digits,
# %+=&-._~), quoted by json.dumps; the screen is in it so each page draws a new frame (an unchanged one does not
# run again).
ADDRESS_SCRIPT = """<script>
const wanted = {query}, screen = {screen}, app = window.parent;
if (app.location.search !== wanted) app.history.replaceState(app.history.state, "", app.location.pathname + wanted);
</script>"""


def keep_address(screen, link):
    script = ADDRESS_SCRIPT.format(query=json.dumps("?" + urlencode(link)).replace("<", "\\u003c"),
                                   screen=json.dumps(screen))
    with st.container(key="address"):  # app.STYLE hides it: a frame of height 0 still takes a row's gap
        components.html(script, height=0)


def view_link(screen, link):
    """This screen's full URL with its query (literal text in a code box, never Markdown). Under AppTest there is
    no browser URL: the path alone."""
    path = "/" if screen == HOME else f"/{url_path(screen)}"
    here = urlsplit(getattr(st.context, "url", None) or "")
    base = here.path.rstrip("/")
    for name in SCREENS:  # st.context.url holds the page's path: the app's root is before it
        if base.endswith(f"/{url_path(name)}"):
            base = base[: -len(url_path(name)) - 1]
            break
    return urlunsplit((here.scheme, here.netloc, base + path, urlencode(link), ""))


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


def render(settings, screen, page, body):
    """The sidebar (drawn by the main script, so its widgets are the same on every page), then `page`, whose
    callable calls what `body` holds."""
    apps_listed, error = apps_or_error(settings)
    with st.sidebar:
        page_links(body["pages"])
    if not apps_listed and error is None:
        st.title("Oddlytics")
        states.no_events_yet(settings.url)
        return
    names = {a["app_id"]: a.get("display_name") for a in apps_listed}
    scope = sidebar(settings, screen, list(names), names)
    header(screen, scope, next((a for a in apps_listed if a["app_id"] == scope.get("app_id")), None))
    notice = st.empty()  # filled once the screen's reads have said whether they are complete
    try:
        if error:
            raise error
        reader = api.Reader(settings, scope)
        body["run"] = lambda: SCREENS[screen][1](reader, {k: v for k, v in scope.items() if k != "app_id"})
        try:
            with st.spinner(f"Loading {screen.lower()} …"):
                page.run()
        finally:
            reader.forget_prefetched()
    except api.MissingRoute as missing:
        states.needs_worker(missing)
        return
    except api.DashboardError as failure:
        states.failed(failure)
        return
    if reader.unfolded_events or reader.estimated_elsewhere:
        with notice.container():
            if reader.unfolded_events:
                states.still_folding(reader.unfolded_events, reader.fold_every_minutes)
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


def navigation():
    """One page per screen. A page's callable runs what `body["run"]` holds when the page runs (the reader and
    range of this run); `body["pages"]` are the pages by screen name."""
    body = {"run": lambda: None}
    pages = {name: st.Page(lambda: body["run"](), title=name, icon=icon, url_path=url_path(name),
                           default=name == HOME) for name, (icon, _) in SCREENS.items()}
    body["pages"] = pages
    # Hidden: the sidebar draws the links itself, under the title (st.navigation's own menu goes above it).
    return body, st.navigation(list(pages.values()), position="hidden")


def main():
    st.set_page_config(page_title="Oddlytics", page_icon=str(FAVICON), layout="wide")
    body, page = navigation()
    st.markdown(STYLE, unsafe_allow_html=True)
    settings = load_settings()
    if settings is None:
        st.title("Oddlytics")
        states.not_configured()
        return
    linked = remember_query_params(settings)
    wanted = st.session_state.pop(states.SWITCH_KEY, None) or linked
    if wanted in SCREENS and wanted != page.title:
        # This run stops before the sidebar's widgets are drawn, and Streamlit drops the state of widgets a run
        # did not draw: set in code, their values carry over. Query parameters go: the next run writes them.
        for key in SIDEBAR_KEYS:
            if key in st.session_state:
                st.session_state[key] = st.session_state[key]
        st.switch_page(body["pages"][wanted])
    render(settings, page.title, page, body)


main()
