"""Admin controls, shown only when the dashboard's key is AUTH_KEY (`Reader.is_admin`): app display names and
icons, event aliases, and deleting an event, a user's data or an app behind a confirmation that says
exactly what goes."""
import streamlit as st

from dashboard import api, periods, shapes, snippets, text

PENDING_KEY = "admin_pending"
OUTCOME_KEY = "admin_outcome"
# An erasure answers "complete": false when D1's per-request query budget ran out first: ask again.
MAX_ERASE_CALLS = 50


def show_outcome():
    """What the last change did (set by a callback, shown on the next run)."""
    outcome = st.session_state.pop(OUTCOME_KEY, None)
    if outcome:
        kind, message = outcome
        (st.success if kind == "ok" else st.error)(message, icon=":material/check:" if kind == "ok" else
                                                   ":material/error:")


def run_change(describe, change):
    """Run `change()` (from a button's callback); remember what it did, or why it failed."""
    st.session_state.pop(PENDING_KEY, None)
    try:
        st.session_state[OUTCOME_KEY] = ("ok", describe(change()))
    except api.DashboardError as error:
        st.session_state[OUTCOME_KEY] = ("error", f"The worker refused: {refusal_text(error)}")


def refusal_text(error):
    """The worker's message with its reasons (`details`: field and message each), as literal text: the
    reasons say what to fix ("icon_url: must be an https:// URL")."""
    if not isinstance(error, api.ApiError):
        return text.literal(str(error))
    reasons = [f"{item.get('field') or 'value'}: {item.get('message') or ''}" for item in error.details[:5]
               if isinstance(item, dict)]
    return text.literal(error.message) + "".join(f" · {text.literal(reason)}" for reason in reasons)


def erase(reader, path, params=None):
    """Delete until the worker says it is complete; the total of events removed."""
    removed = 0
    for _ in range(MAX_ERASE_CALLS):
        answer = reader.change("DELETE", path, params)
        removed += answer["deleted"]["events"]
        if answer.get("complete", True):
            break
    return removed


def deleted_events(removed):
    return f"Deleted {text.plural(removed, 'event')}."


def confirm_delete(key, ask_label, what, delete, done=deleted_events):
    """A delete button that first says exactly what goes (`what`: Markdown, event data already literal);
    `done(events removed)` says what went, on the next run (show_outcome)."""
    if st.session_state.get(PENDING_KEY) != key:
        st.button(ask_label, key=f"{key}_ask", icon=":material/delete:",
                  on_click=st.session_state.__setitem__, args=(PENDING_KEY, key))
        return
    st.warning(f"**This deletes {what}**, with everything the statistics counted from them. It cannot be undone.",
               icon=":material/warning:")
    yes, no = st.columns(2)
    yes.button("Delete", key=f"{key}_yes", type="primary", icon=":material/delete_forever:", on_click=run_change,
               args=(done, delete))
    no.button("Cancel", key=f"{key}_no", on_click=st.session_state.pop, args=(PENDING_KEY, None))


def delete_event(reader, event):
    tz = reader.scope.get("tz", "UTC")
    # As the tables show it: in the viewer's zone, named.
    when = f"{periods.parse_time(event['timestamp'], tz):%-d %b %Y, %H:%M:%S} ({tz})"
    confirm_delete(f"delete_event_{event['id']}", "Delete this event",
                   f"1 event: {text.literal(event['event'])} of {when} in app {text.literal(event['app_id'])} "
                   f"(id {event['id']})",
                   lambda: erase(reader, f"/admin/events/{event['id']}"))


def delete_user(reader, user_id, events, app_id=None):
    where = f"in app {text.literal(app_id)}" if app_id else "in every app"
    params = {"user_id": user_id, **({"app_id": app_id} if app_id else {})}
    # The query form: ids such as "." cannot travel in a path (the runtime resolves dot segments).
    confirm_delete(f"delete_user_{user_id}_{app_id}", f"Delete this user's data {'in this app' if app_id else ''}",
                   f"{text.plural(events, 'event')} of user {text.literal(user_id)} {where}",
                   lambda: erase(reader, "/admin/users", params))


def delete_app(reader, app):
    app_id = app["app_id"]
    confirm_delete(f"delete_app_{app_id}", "Delete this app",
                   f"app {text.literal(app_id)}: all {text.plural(app.get('total_events') or 0, 'event')} it ever "
                   "sent (its display name, icon and aliases stay: clear them on the other tabs)",
                   lambda: erase(reader, "/admin/apps", {"app_id": app_id}),
                   done=lambda removed: f"Deleted app {text.literal(app_id)}: {text.plural(removed, 'event')}. Its "
                                        "display name, icon and aliases stay.")


def app_controls(reader, app, event_names, aliases):
    """An app page's admin section: display name and icon, aliases, deletion."""
    app_id = app["app_id"]
    st.subheader("Admin")
    st.caption("Shown because the dashboard's key is the worker's AUTH_KEY.")
    show_outcome()
    settings, sdk, names, danger = st.tabs(["Name and icon", "SDK key", "Event aliases", "Delete"])
    with settings:
        app_settings_form(reader, app)
    with sdk:
        app_key_section(reader, app_id)
    with names:
        alias_editor(reader, app_id, event_names, aliases)
    with danger:
        delete_app(reader, app)


def app_settings_form(reader, app):
    app_id = app["app_id"]
    with st.form(f"app_settings_{app_id}"):
        name = st.text_input("Display name", value=app.get("display_name") or "", max_chars=100,
                             key=f"app_name_{app_id}")
        icon = st.text_input("Icon URL (https)", value=app.get("icon_url") or "", placeholder="https://…",
                             key=f"app_icon_{app_id}")
        saved = st.form_submit_button("Save", type="primary", key=f"app_settings_save_{app_id}")
    if saved:
        body = {"display_name": name.strip() or None, "icon_url": icon.strip() or None}
        run_change(lambda _: "Saved. The app shows its new name and icon everywhere.",
                   lambda: reader.change("PUT", "/settings/apps", {"app_id": app_id}, body))
        st.rerun()


def app_key_section(reader, app_id):
    """The app's App-Key for the Aptabase SDKs and the web snippet, with each SDK's init for this worker."""
    try:
        key = reader.app_key(app_id)
    except api.MissingRoute as missing:
        st.info(f"This worker has no App-Keys yet ({text.literal(missing.path)}): deploy the current worker.",
                icon=":material/update:")
        return
    if key is None:
        st.caption("Apps using an Aptabase SDK (Swift, Kotlin, Flutter, React Native, Electron, Tauri, web…) or "
                   "the web snippet send with an App-Key: public, write-only, for this app only.")
        st.button("Create an App-Key", key=f"app_key_create_{app_id}", icon=":material/key:", on_click=run_change,
                  args=(lambda answer: "Created. Put the key and this worker's URL in your app.",
                        lambda: reader.change("POST", "/settings/app-key", {"app_id": app_id})))
        return
    st.caption("App-Key (public: it ships inside your app; it can only send events to this app)")
    st.code(key, language=None)
    for label, language, code in snippets.snippets(reader.settings.url, key):
        st.caption(label)
        st.code(code, language=language)
    confirm_rotate(reader, app_id)


def confirm_rotate(reader, app_id):
    pending = f"rotate_key_{app_id}"
    if st.session_state.get(PENDING_KEY) != pending:
        st.button("Replace the key", key=f"{pending}_ask", icon=":material/autorenew:",
                  on_click=st.session_state.__setitem__, args=(PENDING_KEY, pending))
        return
    st.warning("**The current key stops working at once**: apps shipped with it can no longer send events.",
               icon=":material/warning:")
    yes, no = st.columns(2)
    yes.button("Replace", key=f"{pending}_yes", type="primary", on_click=run_change,
               args=(lambda answer: "Replaced. Ship the new key in your apps.",
                     lambda: reader.change("POST", "/settings/app-key", {"app_id": app_id, "rotate": "true"})))
    no.button("Cancel", key=f"{pending}_no", on_click=st.session_state.pop, args=(PENDING_KEY, None))


def alias_editor(reader, app_id, event_names, aliases):
    if not event_names:
        st.caption("No event names in this range.")
        return
    name = st.selectbox("Event", event_names, key=f"alias_event_{app_id}",
                        format_func=lambda n: shapes.event_label(n, aliases))
    current = aliases.get(name, "")
    with st.form(f"alias_form_{app_id}"):
        alias = st.text_input("Alias (empty removes it)", value=current, max_chars=255, key=f"alias_text_{app_id}")
        saved = st.form_submit_button("Save alias", type="primary", key=f"alias_save_{app_id}")
    if saved:
        # The query forms take every id ("." and ".." cannot travel in a path).
        which = {"app_id": app_id, "event_name": name}
        if alias.strip():
            run_change(lambda _: "Alias saved.",
                       lambda: reader.change("PUT", "/settings/aliases", which, {"alias": alias.strip()}))
        elif current:
            run_change(lambda _: "Alias removed.", lambda: reader.change("DELETE", "/settings/aliases", which))
        st.rerun()
