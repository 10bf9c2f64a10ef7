"""Customer-written text made safe for where it lands: a spreadsheet cell, an operator's terminal.

Ticket titles, queries and article text reach both places verbatim, so each rule lives here once.
"""

from __future__ import annotations

import re

# OWASP "CSV Injection" (and ASVS 1.2.10): a cell whose first character is one of these is read as a
# formula by Excel, LibreOffice Calc and Google Sheets. Leading spaces are skipped too, since some
# importers trim them before deciding.
_FORMULA_FIRST = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
_FORMULA_AFTER_SPACES = ("=", "+", "-", "@")


def csv_cell(value: object) -> object:
    """``value`` for a CSV cell: text that a spreadsheet would run as a formula gets a leading ``'``
    (OWASP's mitigation: the quote marks the cell as text and is not displayed). Numbers and None
    pass through unchanged, so numeric columns stay numeric."""
    if not isinstance(value, str):
        return value
    if value.startswith(_FORMULA_FIRST) or value.lstrip(" \t\r\n").startswith(_FORMULA_AFTER_SPACES):
        return "'" + value
    return value


# C0 controls and DEL, C1 controls (8-bit CSI/OSC among them), the line and paragraph separators,
# bidirectional overrides, embeddings and isolates (they reorder what follows: "Trojan Source"),
# and lone surrogates (they cannot be encoded for the terminal at all).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: object) -> str:
    """``text`` for one line of an operator's terminal: every control character (escape sequences,
    NUL, BEL, newlines, tabs…) and bidi override shows as a visible escape such as ``\\x1b``;
    other Unicode is kept as it is."""
    return _UNSAFE.sub(_visible, str(text))


# Queries typed into the widget, as the statistics group them: Python's idea of case and white space.
def query_key(query: str) -> str:
    return " ".join(query.lower().split())


def unanswered_queries(shown: list[tuple[str, bool]]) -> set[str]:
    """Queries that got no suggestion, minus those the visitor kept typing past (keystroke prefixes); ``shown``
    is one session's (query, nothing shown) in time order."""
    queries = [(query_key(query), empty) for query, empty in shown]
    found = set()
    for i, (query, empty) in enumerate(queries):
        if empty and query and not any(later.startswith(query) and later != query for later, _ in queries[i + 1:]):
            found.add(query)
    return found


def session_queries(events: list[tuple[str, str, bool]]) -> set[tuple[str, str]]:
    """The queries one session contributes, as ``("unanswered" | "need_help", normalised query)``, from its
    suggestion lists and "I still need help" answers in time order: ``(type, query, shown nothing)``. The
    store keeps them per session (``kbsuggest/store/summary.py``) as events arrive; the deflection
    statistics (``kbsuggest/events/deflection.py``) count them."""
    unanswered = unanswered_queries([(q, empty) for kind, q, empty in events if kind == "suggestions_shown"])
    need_help = {query_key(q) for kind, q, _ in events if kind == "feedback"} - {""}
    return {("unanswered", q) for q in unanswered} | {("need_help", q) for q in need_help}
