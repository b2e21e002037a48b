"""Every route in the worker's table x every kind of key -> the documented status.

AUTH_KEY may do everything, READ_KEY only reads, INGEST_KEY only sends events; a missing or
unknown key is 401, a known key without the scope 403, and a worker without AUTH_KEY answers 503.
"""
import uuid

import pytest

from conftest import KEYS, Api, event
from route_table import fill, load_routes, path_params
from scripts.devserver import Worker

ROUTES = load_routes()
SCOPED = [route for route in ROUTES if route[2] is not None]

# What each presented key may do, as the README documents it (written out, not read from auth.py).
GRANTS = {
    "admin": {"ingest", "read", "admin"},
    "read": {"read"},
    "ingest": {"ingest"},
}
PRESENTED = {"admin": KEYS["AUTH_KEY"], "read": KEYS["READ_KEY"], "ingest": KEYS["INGEST_KEY"]}

# Success is 200 unless the harmless request we send has a documented other answer.
GRANTED_STATUS = {
    ("DELETE", "/admin/events/{id}"): 404,  # no such event
    ("POST", "/admin/purge"): 400,  # the session worker has no RETENTION_DAYS
    ("DELETE", "/admin/users"): 400,  # the query form, sent without the id it needs
    ("DELETE", "/admin/apps"): 400,
    ("GET", "/suggest"): 400,  # sent without the prefix it needs
    ("GET", "/stats/breakdown"): 400,  # sent without the `by` it needs
    ("GET", "/users/{user_id}"): 404,  # no such user
    ("GET", "/user"): 400,
    **{(method, path): 400  # no settings in the body (an event, or nothing), or the query form without its ids
       for method in ("PUT", "POST", "DELETE")
       for path in ("/settings/apps/{app_id}", "/settings/apps", "/settings/aliases/{app_id}/{event_name}",
                    "/settings/aliases") if not (method == "DELETE" and "{" in path)},
    ("PUT", "/settings/limits"): 400,  # an event is no caps' setting: nothing changes
    ("POST", "/settings/limits"): 400,
    ("GET", "/stats/funnel"): 400,  # sent without the steps it needs
    ("POST", "/settings/app-key"): 400,  # the query form, sent without the app_id it needs
    ("POST", "/identify"): 400,  # an event, not a link
}


def harmless_path(pattern):
    """Path parameters that match nothing stored, so a granted DELETE removes nothing."""
    absent = f"matrix-absent-{uuid.uuid4().hex}"
    return fill(pattern, {name: "4503599627370496" if name == "id" else absent for name in path_params(pattern)})


def call(api, method, pattern, key, app_id, headers=None):
    kwargs = {"json": event(app_id)} if method == "POST" else {}
    return api.request(method, harmless_path(pattern), key=key, headers=headers or {}, **kwargs)


def route_id(route):
    return f"{route[0]} {route[1]}"


def test_the_table_has_the_admin_routes():
    assert {("DELETE", "/admin/events/{id}", "admin"), ("DELETE", "/admin/users/{user_id}", "admin"),
            ("DELETE", "/admin/apps/{app_id}", "admin"), ("POST", "/admin/purge", "admin"),
            ("DELETE", "/admin/users", "admin"), ("DELETE", "/admin/apps", "admin")} <= set(ROUTES)


@pytest.mark.parametrize("route", SCOPED, ids=route_id)
@pytest.mark.parametrize("key", [None, "not-a-key", KEYS["AUTH_KEY"] + "x", ""], ids=["none", "wrong", "longer", "empty"])
def test_missing_or_unknown_key_is_401(api, app_id, route, key):
    response = call(api, route[0], route[1], key, app_id)
    assert response.status_code == 401
    assert response.json()["success"] is False


@pytest.mark.parametrize("route", SCOPED, ids=route_id)
@pytest.mark.parametrize("holder", sorted(GRANTS))
def test_each_key_gets_its_documented_status(api, app_id, route, holder):
    method, pattern, scope = route
    response = call(api, method, pattern, PRESENTED[holder], app_id)
    if scope in GRANTS[holder]:
        assert response.status_code == GRANTED_STATUS.get((method, pattern), 200), response.text
    else:
        assert response.status_code == 403
        body = response.json()
        assert (body["success"], body["details"]) == (False, [])
        assert "may not" in body["error"]


@pytest.mark.parametrize("key", [None, "not-a-key", KEYS["INGEST_KEY"]], ids=["none", "wrong", "ingest"])
def test_health_needs_no_key(api, key):
    assert api.get("/health", key=key).status_code == 200


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_cors_preflight_needs_no_key(api, route):
    response = api.request("OPTIONS", harmless_path(route[1]), key=None)
    assert response.status_code == 204
    assert "X-API-KEY" in response.headers["access-control-allow-headers"]


@pytest.mark.parametrize("authorization, status", [
    (f"Bearer {KEYS['AUTH_KEY']}", 200),
    (f"bearer {KEYS['READ_KEY']}", 200),
    (f"Bearer {KEYS['INGEST_KEY']}", 403),
    ("Bearer not-a-key", 401),
    ("Bearer ", 401),
    (f"Basic {KEYS['AUTH_KEY']}", 401),
    (KEYS["AUTH_KEY"], 401),
])
def test_authorization_bearer_header(api, authorization, status):
    response = api.get("/stats/overview", key=None, headers={"Authorization": authorization})
    assert response.status_code == status


def test_x_api_key_wins_over_authorization(api):
    headers = {"X-API-KEY": "not-a-key", "Authorization": f"Bearer {KEYS['AUTH_KEY']}"}
    assert api.get("/stats/overview", key=None, headers=headers).status_code == 401


@pytest.fixture(scope="module")
def keyless(tmp_path_factory):
    # AUTH_KEY set to empty overrides any local .dev.vars; READ_KEY alone must not open the worker.
    server = Worker(tmp_path_factory.mktemp("keyless"), variables={"AUTH_KEY": "", "READ_KEY": KEYS["READ_KEY"]})
    server.start()
    yield Api(server.url)
    server.stop()


@pytest.mark.parametrize("route", SCOPED, ids=route_id)
@pytest.mark.parametrize("key", [None, KEYS["READ_KEY"], KEYS["AUTH_KEY"]], ids=["none", "read", "admin"])
def test_worker_without_auth_key_answers_503(keyless, app_id, route, key):
    response = call(keyless, route[0], route[1], key, app_id)
    assert response.status_code == 503
    assert "AUTH_KEY" in response.json()["error"]


def test_worker_without_auth_key_still_reports_health(keyless):
    assert keyless.get("/health", key=None).json()["status"] == "ok"
