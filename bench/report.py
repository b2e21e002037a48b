"""The bench's printed figures: percentiles and one table with each figure's target and a pass/fail mark."""
import math


def percentile(values, fraction):
    """Nearest-rank percentile: a value that was actually measured."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def number(value, decimals=0):
    return "n/a" if value is None else f"{value:,.{decimals}f}"


class Row:
    """One figure. `ok` is True/False against its target, None when it has no target or was not measured."""

    def __init__(self, figure, small="", large="", target="", ok=None):
        self.figure = figure
        self.cells = [figure, small, large, target, {True: "PASS", False: "FAIL", None: ""}[ok]]
        self.ok = ok


class Section(Row):
    def __init__(self, title):
        super().__init__(title)


def render(rows, headers):
    table = [headers] + [row.cells for row in rows if not isinstance(row, Section)]
    widths = [max(len(str(cells[i])) for cells in table) for i in range(len(headers))]
    align = [str.ljust] + [str.rjust] * (len(headers) - 3) + [str.ljust, str.ljust]

    def line(cells):
        return "  ".join(pad(str(cell), width) for pad, cell, width in zip(align, cells, widths)).rstrip()

    rule = "  ".join("-" * width for width in widths)
    out = [line(headers), rule]
    for row in rows:
        out.append("" if isinstance(row, Section) and len(out) > 2 else None)
        out.append(row.figure if isinstance(row, Section) else line(row.cells))
    judged = [row.ok for row in rows if row.ok is not None]
    out += [rule, f"targets met: {sum(judged)} of {len(judged)}"]
    return "\n".join(line for line in out if line is not None)
