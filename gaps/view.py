"""What gap mining sees of a ticket: its redacted title, and the title with the start of its redacted
description, which is what is embedded, clustered and shown.

Redaction runs on the whole text before it is cut: cutting first could split an e-mail, phone
number or IP address so that the part left no longer looks like one and goes through unredacted.
The cut falls at a word boundary, so it never splits a placeholder either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gaps.redact import redact
from kbsuggest.domain import Ticket
from kbsuggest.store import Store


@dataclass(frozen=True)
class RedactedTicket:
    """One item gap mining clusters: a ticket, or one of the widget's signals (``gaps/signals.py``)."""

    id: str
    text: str  # redacted title + the start of the redacted description
    title: str  # redacted
    created_at: str
    resolved: bool
    linked_articles: tuple[str, ...]
    resolution: str = ""  # redacted
    reopens: int = 0
    signal: str = "ticket"  # or "no_result", "still_need_help"
    article_id: str | None = None  # still_need_help: the article that did not help


def cut_at_word(text: str, limit: int) -> str:
    """The first ``limit`` characters of ``text`` at most, ending at a word boundary when there is one."""
    if len(text) <= limit:
        return text
    if text[limit].isspace():
        return text[:limit].rstrip()
    head = re.match(r"(.*\S)\s", text[:limit], re.DOTALL)
    return head.group(1) if head else text[:limit]


def ticket_text(title: str, description: str, description_chars: int) -> str:
    title, start = title.strip(), cut_at_word((description or "").strip(), description_chars)
    if not start or start.startswith(title):
        return start or title
    return f"{title} {start}" if title[-1:] in ".?!:" else f"{title}. {start}"


def redacted_texts(title: str, description: str, resolution: str, description_chars: int = 200) -> tuple[str, str, str]:
    """A ticket's (text, title, resolution), redacted: the costly part of ``redacted``, done on Dask workers
    on plain strings (shipping whole tickets both ways cost more than redacting them)."""
    title = redact(title)
    return (ticket_text(title, redact(description), description_chars), title,
            redact(resolution) if resolution else "")


def with_texts(ticket: Ticket, texts: tuple[str, str, str]) -> RedactedTicket:
    """``ticket`` as gap mining sees it, with its ``redacted_texts``."""
    text, title, resolution = texts
    return RedactedTicket(ticket.id, text, title, ticket.created_at or "", ticket.resolved, ticket.linked_articles,
                          resolution, ticket.reopens)


def redacted(ticket: Ticket, description_chars: int = 200) -> RedactedTicket:
    return with_texts(ticket, redacted_texts(ticket.title, ticket.description, ticket.resolution, description_chars))


def load_redacted(store: Store, kb: str, description_chars: int = 200) -> list[RedactedTicket]:
    """Every imported ticket of ``kb``, oldest first, with PII redacted."""
    return redact_all(store.tickets(kb), description_chars)


def redact_all(tickets: list[Ticket], description_chars: int = 200, progress=None) -> list[RedactedTicket]:
    """``tickets`` redacted, in order; ``progress(stage, total)`` as in ``gaps.mine.Progress``."""
    advance = progress("redacting", len(tickets)) if progress else (lambda n: None)
    out = []
    for start in range(0, len(tickets), 1000):
        out += [redacted(t, description_chars) for t in tickets[start:start + 1000]]
        advance(len(tickets[start:start + 1000]))
    return out
