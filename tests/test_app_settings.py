"""Aliases and app settings: read with any reading key, changed with AUTH_KEY only, validated, stored exactly.

The upgrade of an original Oddlytics database, whose aliases and settings these routes read back, is in
tests/test_migrations.py (it needs a worker of its own)."""
from urllib.parse import quote

import pytest

from conftest import KEYS, event

ADMIN = KEYS["AUTH_KEY"]
READER = KEYS["READ_KEY"]
ICON = "https://cdn.example.com/icons/focus.png?v=2"


def path(*parts):
    return "/".join(quote(part, safe="") for part in parts)


def put(api, route, body, method="PUT", **kwargs):
    return api.request(method, route, key=ADMIN, json=body, **kwargs)


def app_settings(api, app_id):
    return api.read("/settings/apps", app_id=app_id)["apps"]


def aliases(api, app_id):
    return api.read("/settings/aliases", app_id=app_id)["aliases"]


def test_app_settings_are_set_changed_in_part_and_shown_by_apps(api, app_id):
    assert api.track(event(app_id)).status_code == 200
    answer = put(api, "/settings/apps/" + path(app_id), {"display_name": "  Focus Timer ⏱ ", "icon_url": ICON})
    assert answer.json() == {"success": True,
                             "app": {"app_id": app_id, "display_name": "Focus Timer ⏱", "icon_url": ICON,
                                     "daily_users": False}}
    # A field left out stays; null clears one. POST does what PUT does.
    put(api, "/settings/apps/" + path(app_id), {"icon_url": None}, method="POST")
    # Issue 17: an app with no App-Key lists "app_key": null; daily_users is off unless set.
    expected = {"app_id": app_id, "display_name": "Focus Timer ⏱", "icon_url": None, "daily_users": False,
                "app_key": None}
    assert api.get("/settings/apps", key=READER, params={"app_id": app_id}).json() == {
        "success": True, "apps": [expected], "truncated": False}
    (listed,) = api.read("/apps", app_id=app_id)["apps"]
    assert (listed["display_name"], listed["icon_url"]) == ("Focus Timer ⏱", None)


def test_settings_may_name_an_app_before_its_first_event_and_are_deleted(api, app_id):
    route = "/settings/apps/" + path(app_id)
    assert put(api, route, {"icon_url": ICON}).json()["app"] == {"app_id": app_id, "display_name": None, "icon_url": ICON,
                                                                  "daily_users": False}
    assert api.request("DELETE", route, key=ADMIN).json() == {"success": True, "deleted": {"app_settings": 1}}
    assert api.request("DELETE", route, key=ADMIN).json() == {"success": True, "deleted": {"app_settings": 0}}
    assert app_settings(api, app_id) == []


def test_aliases_by_path_with_awkward_names_and_by_query_with_dot_ids(api, app_id):
    name = "Checkout/Paid 100% ✓"  # a slash, a percent sign, non-ASCII: all percent-encoded in the path
    route = "/settings/aliases/" + path(app_id, name)
    assert put(api, route, {"alias": "Paid"}).json() == {
        "success": True, "alias": {"app_id": app_id, "event_name": name, "alias": "Paid"}}
    put(api, route, {"alias": "Bought"})  # replaces
    # "." cannot travel as a path segment (the runtime resolves it away): the query form carries any name.
    dot = {"app_id": app_id, "event_name": "."}
    assert put(api, "/settings/aliases", {"alias": "Dot"}, params=dot).status_code == 200
    assert aliases(api, app_id) == [{"app_id": app_id, "event_name": ".", "alias": "Dot"},
                                    {"app_id": app_id, "event_name": name, "alias": "Bought"}]
    assert api.request("DELETE", "/settings/aliases", key=ADMIN, params=dot).json()["deleted"] == {"aliases": 1}
    assert api.request("DELETE", route, key=ADMIN).json()["deleted"] == {"aliases": 1}
    assert aliases(api, app_id) == []


def test_aliases_of_every_app_are_listed_without_app_id(api, app_id):
    other = app_id + "-b"
    for app in (app_id, other):
        put(api, "/settings/aliases/" + path(app, "Opened"), {"alias": f"Opened in {app}"})
    listed = [a for a in api.read("/settings/aliases")["aliases"] if a["app_id"] in (app_id, other)]
    assert listed == [{"app_id": app, "event_name": "Opened", "alias": f"Opened in {app}"} for app in (app_id, other)]


@pytest.mark.parametrize("body, field", [
    ({"display_name": "x" * 101}, "display_name"),
    ({"display_name": "   "}, "display_name"),
    ({"display_name": "two\nlines"}, "display_name"),
    ({"display_name": "tab\there"}, "display_name"),
    ({"display_name": "evil\u202egnp.exe"}, "display_name"),  # a bidi override reverses what follows
    ({"display_name": 5}, "display_name"),
    ({"icon_url": "javascript:alert(1)"}, "icon_url"),
    ({"icon_url": "data:image/svg+xml;base64,PHN2Zy8+"}, "icon_url"),
    ({"icon_url": "http://example.com/i.png"}, "icon_url"),
    ({"icon_url": "https://"}, "icon_url"),
    ({"icon_url": "https://user:pw@example.com/i.png"}, "icon_url"),
    ({"icon_url": "https://example.com/a b.png"}, "icon_url"),
    ({"icon_url": "https:\\\\evil.example/i.png"}, "icon_url"),
    ({"icon_url": "https://example.com/" + "i" * 481}, "icon_url"),  # 501 characters
    ({"display_name": "Ok", "colour": "red"}, "colour"),
    ({}, "body"),
    ([], "body"),
])
def test_bad_app_settings_are_a_400_naming_the_field_and_change_nothing(api, app_id, body, field):
    put(api, "/settings/apps/" + path(app_id), {"display_name": "Before"})
    response = put(api, "/settings/apps/" + path(app_id), body)
    assert response.status_code == 400, response.text
    assert field in [d["field"] for d in response.json()["details"]]
    assert app_settings(api, app_id) == [{"app_id": app_id, "display_name": "Before", "icon_url": None,
                                          "daily_users": False, "app_key": None}]


# Issue 18, 4: icons the browser would fetch from the viewer's own network, ports no URL can have, and
# names with characters that show nothing.
@pytest.mark.parametrize("body, field", [
    ({"icon_url": "https://127.0.0.1:8501/x.png"}, "icon_url"),
    ({"icon_url": "https://[::1]/x.png"}, "icon_url"),
    ({"icon_url": "https://[::ffff:10.0.0.1]/x.png"}, "icon_url"),
    ({"icon_url": "https://10.1.2.3/x.png"}, "icon_url"),
    ({"icon_url": "https://192.168.0.10/x.png"}, "icon_url"),
    ({"icon_url": "https://172.16.5.4/x.png"}, "icon_url"),
    ({"icon_url": "https://169.254.169.254/latest"}, "icon_url"),
    ({"icon_url": "https://0.0.0.0/x.png"}, "icon_url"),
    ({"icon_url": "https://2130706433/x.png"}, "icon_url"),  # 127.0.0.1 to a browser
    ({"icon_url": "https://0x7f.1/x.png"}, "icon_url"),
    ({"icon_url": "https://localhost/x.png"}, "icon_url"),
    ({"icon_url": "https://printer.local/x.png"}, "icon_url"),
    ({"icon_url": "https://intranet/x.png"}, "icon_url"),
    ({"icon_url": "https://example.com:99999/x.png"}, "icon_url"),
    ({"icon_url": "https://example.com:abc/x.png"}, "icon_url"),
    ({"icon_url": "https://example.com:0/x.png"}, "icon_url"),
    ({"display_name": "Fo\u200bcus"}, "display_name"),
    ({"display_name": "Fo\u00adcus"}, "display_name"),
    ({"display_name": "\ufeffFocus"}, "display_name"),
    ({"display_name": "Focus\U000e0041\U000e0042"}, "display_name"),
    ({"display_name": "\u2060\u3164"}, "display_name"),
])
def test_intranet_icons_bad_ports_and_invisible_characters_are_a_400_naming_the_field(api, app_id, body, field):
    put(api, "/settings/apps/" + path(app_id), {"display_name": "Before"})
    response = put(api, "/settings/apps/" + path(app_id), body)
    assert response.status_code == 400, response.text
    assert [d["field"] for d in response.json()["details"]] == [field]
    assert app_settings(api, app_id) == [{"app_id": app_id, "display_name": "Before", "icon_url": None,
                                          "daily_users": False, "app_key": None}]


@pytest.mark.parametrize("alias", ["Took\u200ba break", "\U000e0020"])
def test_aliases_with_invisible_characters_are_refused(api, app_id, alias):
    response = put(api, "/settings/aliases/" + path(app_id, "Opened"), {"alias": alias})
    assert (response.status_code, [d["field"] for d in response.json()["details"]]) == (400, ["alias"])
    assert aliases(api, app_id) == []


def test_public_hosts_ports_and_emoji_sequences_are_still_accepted(api, app_id):
    body = {"display_name": "Family \U0001f468\u200d\U0001f469\u200d\U0001f467 \u2764\ufe0f",
            "icon_url": "https://cdn.example.com:8443/icons/app.png?v=2"}
    assert put(api, "/settings/apps/" + path(app_id), body).json()["app"] == {"app_id": app_id, **body,
                                                                           "daily_users": False}


def test_limits_are_inclusive(api, app_id):
    longest = {"display_name": "é" * 100, "icon_url": "https://example.com/" + "i" * 480}
    assert put(api, "/settings/apps/" + path(app_id), longest).json()["app"] == {"app_id": app_id, **longest,
                                                                                 "daily_users": False}


@pytest.mark.parametrize("body", [{}, {"alias": None}, {"alias": ""}, {"alias": "a\x00b"}, {"alias": "x" * 101},
                                  {"alias": "Ok", "display_name": "x"}])
def test_bad_aliases_are_a_400_and_store_nothing(api, app_id, body):
    response = put(api, "/settings/aliases/" + path(app_id, "Opened"), body)
    assert response.status_code == 400, response.text
    assert aliases(api, app_id) == []


@pytest.mark.parametrize("route", ["/settings/aliases?event_name=Opened", "/settings/aliases?app_id=a&event_name=",
                                   "/settings/apps?app_id=" + "x" * 256])
def test_an_id_missing_empty_or_too_long_is_a_400(api, route):
    response = put(api, route, {"alias": "x", "display_name": "x"})
    assert response.status_code == 400 and response.json()["success"] is False


def test_a_body_that_is_not_json_is_refused_with_the_usual_statuses(api, app_id):
    route = "/settings/apps/" + path(app_id)
    headers = {"Content-Type": "application/json"}
    assert api.request("PUT", route, key=ADMIN, data="{nope", headers=headers).status_code == 400
    too_big = '{"display_name": "' + "x" * 5000 + '"}'
    assert api.request("PUT", route, key=ADMIN, data=too_big, headers=headers).status_code == 413
    assert api.request("PUT", route, key=ADMIN, data="display_name=x",
                       headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 415
    assert app_settings(api, app_id) == []


def test_only_auth_key_changes_settings(api, app_id):
    route = "/settings/aliases/" + path(app_id, "Opened")
    for key in (READER, KEYS["INGEST_KEY"]):
        assert api.request("PUT", route, key=key, json={"alias": "x"}).status_code == 403
        assert api.request("DELETE", route, key=key).status_code == 403
    assert api.get("/settings/aliases", key=KEYS["INGEST_KEY"]).status_code == 403
    assert aliases(api, app_id) == []


def test_browsers_may_send_put(api, app_id):
    response = api.request("OPTIONS", "/settings/apps/" + path(app_id), key=None)
    assert response.status_code == 204 and "PUT" in response.headers["access-control-allow-methods"]
