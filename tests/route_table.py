"""The worker's real route table, loaded on CPython for tests that iterate over every route.

Handler modules import the Workers runtime (`js`, `pyodide`) at module level; those names are
stubbed only while `router.build_routes()` imports them, and no handler is ever called here.
"""
import sys
import types
from unittest import mock


def _stub(name, **attributes):
    module = types.ModuleType(name)
    module.__dict__.update(attributes)
    module.__getattr__ = lambda attribute: object()  # `from js import Anything`
    return module


def load_routes():
    stubs = {
        "js": _stub("js"),
        "pyodide": _stub("pyodide"),
        "pyodide.ffi": _stub("pyodide.ffi", JsException=type("JsException", (Exception,), {}), to_js=lambda v: v),
    }
    with mock.patch.dict(sys.modules, stubs):
        import router

        routes = router.build_routes()
    return [(route.method, "/" + "/".join(route.segments), route.scope) for route in routes]


def path_params(pattern):
    return [segment[1:-1] for segment in pattern.strip("/").split("/") if segment.startswith("{")]


def fill(pattern, values):
    """'/admin/users/{user_id}' + {'user_id': 'x'} -> '/admin/users/x' (values already URL-safe)."""
    for name in path_params(pattern):
        pattern = pattern.replace("{" + name + "}", values[name])
    return pattern
