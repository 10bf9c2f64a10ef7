"""The three signals a gap is mined from, and what each weighs in a gap's impact.

- ``ticket``: a resolved ticket no public article answers (an agent handled it);
- ``no_result``: a type-ahead query or chat message the widget found nothing for (a possible ticket);
- ``still_need_help``: "I still need help" on a suggested article (the article did not answer it).
The widget's two are read through the store (``Store.gap_signals``: half-typed prefixes of a later
query dropped, once per session and text), redacted like tickets, and embedded and clustered in the
same space. They were unanswered when asked, so they are not checked for coverage again.

Impact (``impact``) is the weighted sum over a gap's items of ``weight[signal] * 0.5 ** (age /
half_life)``: in ticket equivalents, recent ones counting more. The weights live in one place,
``Settings.gap_signal_weights`` (``KBSUGGEST_GAP_SIGNAL_WEIGHTS``, JSON); by default a ticket is 1 (an
agent's handling time), a "still need help" 0.5 (a visitor who read the article and was not helped, one
step from a ticket), a no-result query 0.25 (a possible ticket: many visitors rephrase or leave).
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

from gaps.redact import redact
from gaps.view import RedactedTicket
from kbsuggest.config import GAP_SIGNALS
from kbsuggest.store import Store

LABELS = {"ticket": "tickets", "no_result": "no-result queries", "still_need_help": "still need help"}


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def widget_item(row: dict) -> RedactedTicket | None:
    """One row of ``Store.gap_signals`` as an item to mine; None when its text is blank."""
    text = _normalised(row["query"])
    if not text:
        return None
    key = hashlib.sha1(f"{text.lower()}\x1f{row.get('article_id') or ''}".encode()).hexdigest()[:10]
    shown = redact(text)
    return RedactedTicket(f"{row['signal']}:{row['session_id']}:{key}", shown, shown, row["at"], True, (),
                          signal=row["signal"], article_id=row.get("article_id"))


def load_widget_signals(store: Store, kb: str, start: str = "", end: str = "9999") -> list[RedactedTicket]:
    """The widget's gap signals of ``kb`` in ``[start, end)``, oldest first, redacted."""
    items = (widget_item(row) for row in store.gap_signals(kb, start, end))
    seen: set[str] = set()
    out = []
    for item in items:
        if item is not None and item.id not in seen:  # white space the SQL kept apart: one item
            seen.add(item.id)
            out.append(item)
    return out


def counts(items: list[RedactedTicket]) -> dict[str, int]:
    """How many items of each signal, every signal present (0 when none)."""
    found = {signal: 0 for signal in GAP_SIGNALS}
    for item in items:
        found[item.signal] += 1
    return found


def impact(items: list[RedactedTicket], ages_days: np.ndarray, weights: dict[str, float], half_life_days: float) -> float:
    """The documented weighted sum (module docstring) over ``items``, whose ages are ``ages_days``."""
    weight = np.array([weights[item.signal] for item in items], dtype=np.float64)
    return float(np.sum(weight * 0.5 ** (np.maximum(ages_days, 0.0) / half_life_days)))
