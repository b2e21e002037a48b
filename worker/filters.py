"""Read-side query parameters -> validated values and fixed SQL fragments with bound values. Pure."""
from errors import BadRequest, detail
from timeutil import parse_range

MAX_FILTER_LENGTH = 255


def text_param(query, name, max_length=MAX_FILTER_LENGTH):
    value = query.get(name)
    if value is None or value == "":
        return None
    if len(value) > max_length or "\x00" in value:
        raise BadRequest(f"'{name}' is not a valid value", [detail(None, name, f"at most {max_length} characters, no NUL")])
    return value


def int_param(query, name, default, low, high):
    text = query.get(name)
    if text is None or text == "":
        return default
    # isdigit() alone admits '²' and 5000-digit numbers, which int() rejects: a 500, not a 400.
    if not (text.isascii() and text.isdigit() and len(text) <= 18) or not low <= int(text) <= high:
        raise BadRequest(f"'{name}' must be a whole number from {low} to {high}", [detail(None, name, f"got {text[:40]!r}")])
    return int(text)


def choice_param(query, name, choices, default):
    value = query.get(name) or default
    if value not in choices:
        raise BadRequest(f"'{name}' must be one of: {', '.join(choices)}", [detail(None, name, f"got {value[:40]!r}")])
    return value


class Scope:
    """The range and optional app every stats route is about."""

    def __init__(self, query, now_ms):
        self.range = parse_range(query, now_ms)
        self.app_id = text_param(query, "app_id")

    def where(self, start, end, column="hour", scale=1):
        """`column` within [start, end) (epoch seconds * scale) and the app, if one was asked for."""
        sql = f"{column} >= ? AND {column} < ?"
        params = [start * scale, end * scale]
        if self.app_id is not None:
            sql += " AND app_id = ?"
            params.append(self.app_id)
        return sql, params

    def as_json(self):
        return {**self.range.as_json(), "app_id": self.app_id}
