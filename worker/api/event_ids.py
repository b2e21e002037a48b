"""Event ids as stored: a client's idempotency key (api/validation.py: up to 64 characters of any text) kept in fewer
bytes when it has one of the shapes SDKs send: a UUID (ours sends `str(uuid4())`, Swift `UUID().uuidString` in upper
case) or 32 hex digits. Pure: SQL expressions, applied by ingest (api/ingest.py) and undone by the explorer
(routes/events.py).

A lower-case UUID with dashes (36 characters) is stored as its 16 bytes, a BLOB; the three other shapes as a BLOB of
a shape byte and the 16 bytes; any other id as the text sent. SQLite never finds a BLOB equal to a TEXT, and each
shape has its own length or first byte, so two stored ids are equal exactly when the sent ones were: exactly-once
ingest compares stored ids. `shown` gives back the text sent. A reference-app row (32 hex digits) is 15 bytes
smaller, one of our SDK's 20 (issue 16). Ids stored as text by an earlier version stay text: ingest compares a
retry's id in both forms.

Built with `unhex` (SQLite 3.41; D1 has it) and never `||` between BLOBs: `||` makes TEXT of them.
"""
# D1 refuses a LIKE or GLOB pattern over 50 bytes ("LIKE or GLOB pattern too complex"): a shape is a length, one
# short class pattern, and for a UUID its four dashes in place.
DASHES = "substr({x}, 9, 1) = '-' AND substr({x}, 14, 1) = '-' AND substr({x}, 19, 1) = '-' AND substr({x}, 24, 1) = '-'"
# (shape byte in hex, '' for none; the characters a shape holds; dashed). Digits-only ids match the first shape that
# fits them, and come back the same from it.
SHAPES = (
    ("", "0-9a-f", True),
    ("01", "0-9A-F", True),
    ("02", "0-9a-f", False),
    ("03", "0-9A-F", False),
)


def shape_sql(text_sql, digits, dashed):
    """SQL: whether `text_sql` is a UUID (`dashed`) or 32 hex digits, of the characters `digits`."""
    if dashed:
        # 36 characters of digits and '-', 4 of them dashes, each in its place.
        return (f"length({text_sql}) = 36 AND {text_sql} NOT GLOB '*[^{digits}-]*' AND "
                f"length(replace({text_sql}, '-', '')) = 32 AND " + DASHES.format(x=text_sql))
    return f"length({text_sql}) = 32 AND {text_sql} NOT GLOB '*[^{digits}]*'"


def stored(text_sql):
    """SQL: the stored form of the sent id `text_sql` (TEXT or NULL; NULL stays NULL)."""
    cases = " ".join(
        f"WHEN {shape_sql(text_sql, digits, dashed)} THEN unhex('{byte}' || "
        + (f"replace({text_sql}, '-', '')" if dashed else text_sql) + ")"
        for byte, digits, dashed in SHAPES)
    return f"(CASE {cases} ELSE {text_sql} END)"


def _dashed(hex_sql):
    return " || '-' || ".join(f"substr({hex_sql}, {start}, {length})"
                               for start, length in ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12)))


def shown(column_sql):
    """SQL: the id as it was sent, from its stored form `column_sql`."""
    digits = f"substr(hex({column_sql}), 3)"
    return (f"(CASE WHEN typeof({column_sql}) != 'blob' THEN {column_sql} "
            f"WHEN length({column_sql}) = 16 THEN lower({_dashed(f'hex({column_sql})')}) "
            f"ELSE CASE substr(hex({column_sql}), 1, 2) WHEN '01' THEN {_dashed(digits)} "
            f"WHEN '02' THEN lower({digits}) ELSE {digits} END END)")
