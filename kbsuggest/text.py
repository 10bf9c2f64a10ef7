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
