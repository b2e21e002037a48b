import pytest

from api import cursor
from api.auth import ADMIN, INGEST, READ, authorize, granted_scopes, presented_key
from errors import BadRequest, Forbidden, MethodNotAllowed, NotFound, ServiceUnavailable, Unauthorized
from router import Route, RouteTable, resolve

KEYS = {"AUTH_KEY": "admin", "READ_KEY": "reader", "INGEST_KEY": None}


def test_cursor_round_trip_and_garbage():
    assert cursor.decode(cursor.encode(1_700_000_000_000, 42)) == (1_700_000_000_000, 42)
    for garbage in ["", "!!", cursor.encode("x", 1), "W10"]:
        with pytest.raises(BadRequest):
            cursor.decode(garbage)


def test_key_from_header_or_bearer():
    assert presented_key({"x-api-key": " k "}) == "k"
    assert presented_key({"authorization": "Bearer k"}) == "k"
    assert presented_key({"authorization": "Basic k"}) is None


def test_scopes():
    assert granted_scopes("admin", KEYS) == {INGEST, READ, ADMIN}
    assert granted_scopes("reader", KEYS) == {READ}
    assert granted_scopes("", KEYS) == set()


@pytest.mark.parametrize("headers,configured,error", [
    ({}, KEYS, Unauthorized),
    ({"x-api-key": "nope"}, KEYS, Unauthorized),
    ({"x-api-key": "reader"}, KEYS, Forbidden),
    ({"x-api-key": "admin"}, {"AUTH_KEY": None}, ServiceUnavailable),
])
def test_authorize_refuses(headers, configured, error):
    with pytest.raises(error):
        authorize(headers, configured, INGEST)


def test_resolve_matches_params_and_reports_allowed_methods():
    routes = [Route("GET", "/users/{user_id}", "get", READ), Route("DELETE", "/users/{user_id}", "delete", ADMIN)]
    route, params = resolve(routes, "GET", "/users/u%401")
    assert (route.handler, params) == ("get", {"user_id": "u@1"})
    with pytest.raises(MethodNotAllowed) as raised:
        resolve(routes, "POST", "/users/u-1")
    assert raised.value.allowed == ["GET", "DELETE"]
    with pytest.raises(NotFound):
        resolve(routes, "GET", "/users")


def test_route_table_resolves_as_the_plain_list_does():
    """The table matches only routes sharing the path's first segment: the same answers as trying every route."""
    routes = [Route("GET", "/health", "health", None), Route("GET", "/users", "list", READ),
              Route("GET", "/users/{user_id}", "get", READ), Route("DELETE", "/users/{user_id}", "delete", ADMIN),
              Route("POST", "/settings/apps/{app_id}/app-key", "key", ADMIN), Route("GET", "/", "root", None)]
    table = RouteTable(routes)
    for method, path in [("GET", "/health"), ("GET", "/users"), ("GET", "/users/u%401"), ("DELETE", "/users/u"),
                         ("POST", "/settings/apps/a/app-key"), ("GET", "/"), ("POST", "/users/u"),
                         ("GET", "/users/"), ("GET", "/nowhere"), ("GET", "/settings/apps/a")]:
        outcomes = []
        for candidates in (routes, table):
            try:
                route, params = resolve(candidates, method, path)
                outcomes.append((route.handler, params))
            except (MethodNotAllowed, NotFound) as error:
                outcomes.append((type(error).__name__, getattr(error, "allowed", None)))
        assert outcomes[0] == outcomes[1], (method, path)
    assert resolve(table, "GET", "/users/u%401") == (routes[2], {"user_id": "u@1"})
    assert [route.handler for route in table.candidates(["users", "x"])] == ["list", "get", "delete"]
