"""Event aliases and app settings (as in the original Oddlytics): display names for event names per app, and
per app a display name and an icon URL. Any reading key reads them; only AUTH_KEY changes them.

Ids travel in the path (percent-encoded) or, for ids a path cannot carry (`.`, `..`), in the query string,
as on the admin routes. Bodies are small JSON objects; a field the route does not know is a 400, so a typo
never passes for a change. Settings may name an app with no events yet (set up before the first launch).
"""
import ipaddress
import secrets
import unicodedata
from urllib.parse import urlsplit

import debug_apps
from api import caps
from api.params import text_param
from api.validation import parse_json, stored_id
from api.web import check_content_type, ok
from d1 import D1Error
from errors import BadRequest, detail
from sql import Sql

MAX_BODY_BYTES = 4096
MAX_LABEL = 100
MAX_ICON_URL = 500
# A list is one statement; an operator sets these by hand, so this many is far beyond real use.
MAX_LISTED = 1000
# Format characters that reorder displayed text ("Trojan Source" bidi overrides): a name must read as stored.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
UNPRINTABLE = frozenset({"Cc", "Cs", "Zl", "Zp"})
APP_COLUMNS = ("display_name", "icon_url", "daily_users")


# Default-ignorable characters that are not format characters (Cf): Hangul fillers, the combining grapheme
# joiner, Mongolian free variation selectors, Khmer inherent vowels. They show nothing.
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u034f\u17b4\u17b5\u180b\u180c\u180d\u180f")
# Zero-width (non-)joiners change how the characters beside them are drawn in joining scripts and emoji
# sequences (a family emoji, Persian words); between ASCII characters, or alone, they show nothing.
JOINERS = frozenset("\u200c\u200d")
# Where icons may not come from: the viewer's browser fetches the icon, so an intranet host would make every
# dashboard viewer request something on their own network.
LOCAL_NAMES = ("localhost", "local", "localdomain", "internal", "intranet", "lan", "home", "corp", "private",
               "home.arpa")
# What browsers (UTS 46) read as a dot in a host name.
DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


def has_control_characters(text):
    return any(unicodedata.category(char) in UNPRINTABLE or char in BIDI_CONTROLS for char in text)


def _joins(text, index):
    before, after = text[index - 1:index] if index else "", text[index + 1:index + 2]
    return all(side and not side.isascii() and not side.isspace() and unicodedata.category(side) != "Cf"
               for side in (before, after))


def has_invisible_characters(text):
    """Format characters (zero-width space, soft hyphen, byte order mark, tag characters, word joiner...) and
    other characters that show nothing: a name that reads like another, or like nothing."""
    return any((unicodedata.category(char) == "Cf" and not (char in JOINERS and _joins(text, index)))
               or char in BLANK_LETTERS for index, char in enumerate(text))


def label_problem(value):
    """Why `value` cannot be a display name or alias, or None."""
    if not isinstance(value, str):
        return "must be a string"
    if not value.strip():
        return "must not be empty"
    if len(value.strip()) > MAX_LABEL:
        return f"must be at most {MAX_LABEL} characters"
    if has_control_characters(value):
        return "must not contain control characters (line breaks, tabs, bidi overrides)"
    if has_invisible_characters(value):
        return "must not contain invisible characters (zero-width spaces, soft hyphens, byte order marks, tags)"
    return None


def whatwg_ipv4(host):
    """A host whose last label is a number is an IPv4 address to a browser, in any of its spellings
    (`2130706433`, `0x7f.1`, `0177.0.0.1`): the address, None for another host, or ValueError."""
    labels = host.split(".")
    if labels[-1] == "" and len(labels) > 1:
        labels.pop()
    last = labels[-1]
    if not (last.isascii() and (last.isdigit() or last[:2] == "0x")):
        return None
    numbers = []
    for label in labels:
        if not label.isascii():
            raise ValueError(label)
        if label[:2] == "0x":
            numbers.append(int(label[2:] or "0", 16))
        elif len(label) > 1 and label[0] == "0":
            numbers.append(int(label[1:], 8))
        else:
            numbers.append(int(label, 10))
    if len(numbers) > 4 or any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise ValueError(host)
    address = numbers[-1]
    for position, number in enumerate(numbers[:-1]):
        address += number << (8 * (3 - position))
    return ipaddress.IPv4Address(address)


def is_public(address):
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return address.is_global and not address.is_multicast


def host_port_problem(netloc):
    """Why the host and port of `netloc` (no user info) cannot serve an icon to any viewer, or None."""
    if netloc.startswith("["):
        host, bracket, rest = netloc[1:].partition("]")
        if not bracket:
            return "is not a valid URL"
    else:
        host, _, rest = netloc.partition(":")
        rest = ":" + rest if _ else ""
    if rest:
        port = rest[1:]
        if not (rest[0] == ":" and port.isascii() and port.isdigit() and len(port) <= 5 and 1 <= int(port) <= 65535):
            return "must have a port from 1 to 65535, if any"
    if "%" in host:
        return "must name its host without percent-encoding"
    # Browsers map full-width and compatibility characters in a host name before they look it up.
    host = unicodedata.normalize("NFKC", host).translate(DOTS).casefold()
    try:
        address = ipaddress.IPv6Address(host) if netloc.startswith("[") else whatwg_ipv4(host)
    except ValueError:
        return "must name a valid host"
    if address is not None:
        return None if is_public(address) else "must not point at a private, loopback or local address"
    name = host.rstrip(".")
    if "." not in name:
        return "must name a public host (a name with a dot)"
    if any(name == local or name.endswith("." + local) for local in LOCAL_NAMES):
        return "must not point at a local network name (localhost, .local, .internal...)"
    return None


def icon_url_problem(value):
    """Why `value` cannot be an icon URL, or None: only https, so no javascript:, data: or plain http."""
    if not isinstance(value, str):
        return "must be a string"
    if len(value) > MAX_ICON_URL:
        return f"must be at most {MAX_ICON_URL} characters"
    if value[:8].lower() != "https://":
        return "must be an https:// URL"
    # Browsers read a backslash as a slash and drop tabs and newlines, so such a URL may not go where it reads.
    if "\\" in value or any(char.isspace() for char in value) or has_control_characters(value):
        return "must not contain spaces, backslashes or control characters"
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        return "is not a valid URL"
    if not host:
        return "must name a host"
    if "@" in parts.netloc:
        return "must not carry a user name or password"
    return host_port_problem(parts.netloc)


def flag_problem(value):
    return None if isinstance(value, bool) else "must be true or false"


APP_FIELDS = {"display_name": label_problem, "icon_url": icon_url_problem, "daily_users": flag_problem}
ALIAS_FIELDS = {"alias": label_problem}


def changes_from(body, fields, nullable):
    """A JSON body -> {field: value or None (clear it)} for the fields it names. 400 naming every problem."""
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object", [detail(None, "body", "expected an object")])
    problems = [detail(None, name[:60], f"unknown field; expected {', '.join(fields)}")
                for name in body if name not in fields]
    changes = {}
    for name, problem_of in fields.items():
        if name not in body:
            if not nullable:
                problems.append(detail(None, name, "is required"))
            continue
        value = body[name]
        if value is None:
            problem = None if nullable else "is required; to remove it, use DELETE"
        else:
            problem = problem_of(value)
        if problem:
            problems.append(detail(None, name, problem))
        changes[name] = value.strip() if isinstance(value, str) else value
    if not problems and not changes:
        problems.append(detail(None, "body", f"set at least one of {', '.join(fields)} (null clears one)"))
    if problems:
        raise BadRequest("invalid settings; nothing was changed", problems[:20])
    return changes


async def json_body(ctx):
    check_content_type(ctx.request.headers)
    return parse_json(await ctx.request.text())


def id_param(ctx, name, field):
    """The id named in the path, or else in the query string, held to the rules `/track` stores it under."""
    value = ctx.params[name] if name in ctx.params else ctx.query.get(name)
    return stored_id(value, name, field)


def app_filter(ctx, column="app_id"):
    app_id = text_param(ctx.query, "app_id")
    return (f" WHERE {column} = ?", [app_id]) if app_id is not None else ("", [])


async def listed(ctx, sql, key, column="app_id", shape=dict):
    where, params = app_filter(ctx, column)
    rows = [shape(row) for row in await ctx.db.query(sql.format(where=where), *params, MAX_LISTED + 1)]
    return ok({"success": True, key: rows[:MAX_LISTED], "truncated": len(rows) > MAX_LISTED})


async def list_apps(ctx):
    # Apps with settings or an App-Key (public: it ships inside the app, so any reading key may see it).
    return await listed(ctx, "SELECT i.app_id AS app_id, s.display_name AS display_name, s.icon_url AS icon_url, "
                             "s.daily_users AS daily_users, k.app_key AS app_key FROM (SELECT app_id FROM app_settings UNION "
                             "SELECT app_id FROM app_keys) AS i LEFT JOIN app_settings AS s ON s.app_id = i.app_id "
                             "LEFT JOIN app_keys AS k ON k.app_id = i.app_id{where} ORDER BY i.app_id LIMIT ?", "apps", "i.app_id",
                        lambda row: {**row, "daily_users": row["daily_users"] == 1})


async def list_aliases(ctx):
    return await listed(ctx, "SELECT app_id, event_name, alias FROM event_aliases{where} "
                             "ORDER BY app_id, event_name LIMIT ?", "aliases")


async def put_app(ctx):
    app_id = id_param(ctx, "app_id", "app_id")
    changes = changes_from(await json_body(ctx), APP_FIELDS, nullable=True)
    if "daily_users" in changes:  # stored as 1, or NULL for off (D1 binds no booleans)
        changes["daily_users"] = 1 if changes["daily_users"] else None
    # D1 cannot bind None (Pyodide makes it `undefined`): a cleared field is the fixed fragment NULL. A field
    # the body leaves out is inserted as NULL for a new row and left alone on an existing one.
    values = ", ".join("?" if changes.get(column) is not None else "NULL" for column in APP_COLUMNS)
    assignments = ", ".join(f"{column} = excluded.{column}" for column in APP_COLUMNS if column in changes)
    row = await ctx.db.first(
        f"INSERT INTO app_settings (app_id, {', '.join(APP_COLUMNS)}) VALUES (?, {values}) "
        f"ON CONFLICT (app_id) DO UPDATE SET {assignments} RETURNING app_id, display_name, icon_url, daily_users",
        app_id, *[changes[column] for column in APP_COLUMNS if changes.get(column) is not None])
    return ok({"success": True, "app": {**row, "daily_users": row["daily_users"] == 1}})


async def delete_app(ctx):
    app_id = id_param(ctx, "app_id", "app_id")
    result = await ctx.db.run("DELETE FROM app_settings WHERE app_id = ?", app_id)
    return ok({"success": True, "deleted": {"app_settings": int(result.get("changes", 0))}})


async def put_alias(ctx):
    app_id, event_name = id_param(ctx, "app_id", "app_id"), id_param(ctx, "event_name", "event")
    changes = changes_from(await json_body(ctx), ALIAS_FIELDS, nullable=False)
    row = await ctx.db.first(
        "INSERT INTO event_aliases (app_id, event_name, alias) VALUES (?, ?, ?) "
        "ON CONFLICT (app_id, event_name) DO UPDATE SET alias = excluded.alias RETURNING app_id, event_name, alias",
        app_id, event_name, changes["alias"])
    return ok({"success": True, "alias": row})


async def delete_alias(ctx):
    app_id, event_name = id_param(ctx, "app_id", "app_id"), id_param(ctx, "event_name", "event")
    result = await ctx.db.run("DELETE FROM event_aliases WHERE app_id = ? AND event_name = ?", app_id, event_name)
    return ok({"success": True, "deleted": {"aliases": int(result.get("changes", 0))}})


# An App-Key is A-SH- and 10 digits, the shape every Aptabase SDK parses (A-{region}-{id}, region SH with a host).
# It is public and write-only: guessing one lets an attacker send events, as the key inside the app does.
KEY_ATTEMPTS = 5
KEEP_KEY = ("INSERT INTO app_keys (app_id, app_key, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT (app_id) DO UPDATE SET app_key = app_keys.app_key RETURNING app_key")
ROTATE_KEY = ("INSERT INTO app_keys (app_id, app_key, created_at) VALUES (?, ?, ?) "
              "ON CONFLICT (app_id) DO UPDATE SET app_key = excluded.app_key, created_at = excluded.created_at "
              "RETURNING app_key")


def new_app_key():
    return f"A-SH-{secrets.randbelow(10**10):010d}"


async def post_app_key(ctx):
    """The app's App-Key, created when it has none; `rotate=true` replaces it (the old one stops at once)."""
    app_id = id_param(ctx, "app_id", "app_id")
    if debug_apps.is_twin(app_id):
        raise BadRequest(f"'app_id' must not start with {debug_apps.PREFIX!r}: debug events share their app's key",
                         [detail(None, "app_id", "name the app itself")])
    if len(app_id) > debug_apps.MAX_APP_ID:
        raise BadRequest(f"an app with an App-Key has an id of at most {debug_apps.MAX_APP_ID} characters",
                         [detail(None, "app_id", "its debug twin, debug:<app_id>, must fit in 255")])
    rotate = ctx.query.get("rotate", "false")
    if rotate not in ("true", "false"):
        raise BadRequest("'rotate' must be true or false", [detail(None, "rotate", f"got {rotate[:40]!r}")])
    for attempt in range(KEY_ATTEMPTS):
        try:
            row = await ctx.db.first(ROTATE_KEY if rotate == "true" else KEEP_KEY, app_id, new_app_key(), ctx.now_ms)
            break
        except D1Error as error:
            # Another app holds the drawn key (1 in 10^10 per app): draw again.
            if "UNIQUE" not in error.reason or attempt == KEY_ATTEMPTS - 1:
                raise
    return ok({"success": True, "app_id": app_id, "app_key": row["app_key"]})


# Deployment caps (api/caps.py): stored in `meta`, each one whole number; null puts the default back.
LIMIT_COLUMNS = (caps.MAX_APPS, caps.MAX_EVENT_NAMES)


def cap_problem(value):
    if not isinstance(value, int) or isinstance(value, bool):
        return "must be a whole number"
    if not 1 <= value <= caps.CEILING:
        return f"must be from 1 to {caps.CEILING}"
    return None


LIMIT_FIELDS = {name: cap_problem for name in LIMIT_COLUMNS}


async def limits_payload(ctx):
    stored = {row["key"]: int(row["value"]) for row in await ctx.db.query(
        "SELECT key, value FROM meta WHERE key IN (?, ?)", *LIMIT_COLUMNS)}
    return {"success": True, "limits": {name: stored.get(name, caps.DEFAULTS[name]) for name in LIMIT_COLUMNS},
            "defaults": dict(caps.DEFAULTS)}


async def get_limits(ctx):
    return ok(await limits_payload(ctx))


async def put_limits(ctx):
    """Raise (or lower) a cap. Lowering one below what the deployment holds refuses only new apps or names:
    what is stored stays, and keeps receiving events."""
    changes = changes_from(await json_body(ctx), LIMIT_FIELDS, nullable=True)
    statements = []
    for name, value in changes.items():
        if value is None:
            statements.append(Sql("DELETE FROM meta WHERE key = ?", [name]))
        else:
            statements.append(Sql("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
                                  "value = excluded.value", [name, str(value)]))
    await ctx.db.batch(statements)
    return ok(await limits_payload(ctx))
