"""API keys and what each may do. Keys are compared in constant time and never echoed or logged."""
import hmac

from errors import Forbidden, ServiceUnavailable, Unauthorized

INGEST, READ, ADMIN = "ingest", "read", "admin"

# secret name -> scopes it grants
KEY_SCOPES = {
    "AUTH_KEY": {INGEST, READ, ADMIN},
    "READ_KEY": {READ},
    "INGEST_KEY": {INGEST},
}

SCOPE_VERBS = {INGEST: "send events", READ: "read data", ADMIN: "use admin routes"}


def presented_key(headers):
    key = headers.get("x-api-key")
    if key:
        return key.strip()
    authorization = headers.get("authorization") or ""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def granted_scopes(key, configured):
    """Scopes granted to `key` by the configured secrets ({name: value}). Compares against every key."""
    granted = set()
    presented = key.encode("utf-8", "surrogatepass")
    for name, value in configured.items():
        if value and hmac.compare_digest(presented, value.encode("utf-8", "surrogatepass")):
            granted |= KEY_SCOPES[name]
    return granted


def configuration_problem(configured):
    """Why these secrets must not be used, or None. Never run open, never let one key do another's job."""
    if not configured.get("AUTH_KEY"):
        return "the AUTH_KEY secret is not configured on this worker; set it with `wrangler secret put AUTH_KEY`"
    names = sorted(name for name, value in configured.items() if value)
    for position, name in enumerate(names):
        for other in names[position + 1:]:
            if hmac.compare_digest(configured[name].encode("utf-8", "surrogatepass"),
                                   configured[other].encode("utf-8", "surrogatepass")):
                # INGEST_KEY ships inside apps: equal to READ_KEY it reads everything, to AUTH_KEY it deletes.
                return f"the {name} and {other} secrets are equal; give each key its own value"
    return None


def authorize(headers, configured, scope):
    problem = configuration_problem(configured)
    if problem:
        raise ServiceUnavailable(problem)
    key = presented_key(headers)
    if not key:
        raise Unauthorized("missing API key: send it in the X-API-KEY header")
    granted = granted_scopes(key, configured)
    if not granted:
        raise Unauthorized("invalid API key")
    if scope not in granted:
        raise Forbidden(f"this key may not {SCOPE_VERBS[scope]}")
