"""Showing strings from event data as literal text, and counting words. Pure.

Streamlit renders captions, labels, metrics, alerts and expander titles as Markdown, with its own extras
(`:material/icon:`, `:red[...]`, `$LaTeX$`). App, user and event names come from apps that ship the
INGEST_KEY, so they are hostile: a link or an image in an app id must not become a live link or a fetch.
"""
import re

BACKTICK_RUNS = re.compile(r"`+")


def literal(value):
    """`value` as an inline code span: CommonMark renders its content verbatim, and Streamlit's emoji,
    icon, colour and math extensions do not look inside code. The fence is one backtick longer than the
    longest run inside; a space pads content that starts or ends with a backtick or a space (CommonMark
    strips exactly one space on each side)."""
    text = " ".join(str(value).splitlines()) or " "
    fence = "`" * (max((len(run) for run in BACKTICK_RUNS.findall(text)), default=0) + 1)
    if text.strip() and (text[0] in "` " or text[-1] in "` "):
        text = f" {text} "
    return f"{fence}{text}{fence}"


def plural(n, word, words=None):
    """'1 event', '2 events', '12,345 users'."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"
