"""Caps every layer shares: whole numbers read from text, and the largest integer D1 can bind. Pure."""

# Pyodide binds Python ints from 2**53 up as JS BigInt, which D1 rejects (a 500): values that reach a bind
# from input (ids, cursors, time bounds) stay at or below this.
MAX_BIND_INT = 2**52


def ascii_int(text, max_digits, too_long=None):
    """`text` as a non-negative int if it is 1 to `max_digits` ASCII digits, `too_long` if it is more digits,
    else None. `str.isdigit()` alone admits '²' and other digits `int()` rejects, and a 5000-digit number must
    not become an int."""
    if not (isinstance(text, str) and text and text.isascii() and text.isdigit()):
        return None
    return int(text) if len(text) <= max_digits else too_long
