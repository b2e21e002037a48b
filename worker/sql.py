"""SQL text and its bound values as one value, so they can never drift apart. Pure.

Fragments concatenate (`+`, with each other or with plain text, which binds nothing) and join; the values
follow the text, so a statement's `?` marks and its parameters stay in the same order however it was put
together. Every value is bound: nothing from a request is ever written into SQL text.
"""

import json

# SQLite reads `INSERT INTO t SELECT ... FROM x ON CONFLICT ...` as a join's `ON`: the SELECT of an upsert
# needs a WHERE (https://sqlite.org/lang_upsert.html, "parsing ambiguity"). A SELECT without a condition of
# its own uses this one.
UPSERT_WHERE = "WHERE true"


class Sql:
    __slots__ = ("text", "params")

    def __init__(self, text="", params=()):
        self.text = text
        self.params = tuple(params)

    def __add__(self, other):
        if isinstance(other, str):
            return Sql(self.text + other, self.params)
        return Sql(self.text + other.text, self.params + other.params)

    def __radd__(self, other):
        return Sql(other + self.text, self.params)

    @staticmethod
    def join(separator, parts):
        parts = list(parts)
        return Sql(separator.join(part.text for part in parts), [value for part in parts for value in part.params])

    def __bool__(self):
        return bool(self.text)

    def __repr__(self):
        return f"Sql({' '.join(self.text.split())[:80]!r}, {self.params[:5]!r})"



# Up to this many pairs are bound as a VALUES list (a json_each element is billed as a row read; D1 binds at most
# 100 parameters a statement); more travel as one JSON parameter.
MAX_BOUND_PAIRS = 40


def bound_pairs(pairs, first, second):
    """Sql: a row per pair of values (a non-empty list), its columns named `first` and `second`; every value bound."""
    if len(pairs) <= MAX_BOUND_PAIRS:
        return Sql(f"SELECT column1 AS {first}, column2 AS {second} FROM (VALUES "
                   + ", ".join(["(?, ?)"] * len(pairs)) + ")", [value for pair in pairs for value in pair])
    return Sql(f"SELECT json_extract(value, '$[0]') AS {first}, json_extract(value, '$[1]') AS {second} "
               "FROM json_each(?)", [json.dumps(pairs, ensure_ascii=False)])
