"""One section of an article of a loaded snapshot, for the widget's inline preview.

A section is stored as its chunks: long sections were split into word windows, each repeating the
last ``overlap_words`` of the one before (``indexing/chunking.py``: ``windows``); joining them back drops
the repeated words. The article's first chunk is its title chunk (anchor "", the opening words
again): the introduction is read from the chunks after it, or from it when there are none (an
article that starts with a heading).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from kbsuggest.domain import ArticleInfo
from kbsuggest.errors import ArticleNotFoundError, SectionNotFoundError
from kbsuggest.index.snapshot import Snapshot

SHOWN_SECTIONS = 10  # anchors listed in the error for an unknown section


@dataclass(frozen=True)
class SectionText:
    article: ArticleInfo
    heading: str | None  # None for the introduction
    anchor: str
    text: str


def join_windows(pieces: list[str], max_words: int, overlap_words: int) -> str:
    """The text the windows were cut from (whitespace normalised)."""
    repeated = max_words - max(1, max_words - overlap_words)
    words = pieces[0].split() if pieces else []
    for piece in pieces[1:]:
        words.extend(piece.split()[repeated:])
    return " ".join(words)


def position_of(snapshot: Snapshot, article_id: str) -> int | None:
    """The article's position, or None (articles are sorted by id: the chunk order rule)."""
    at = bisect.bisect_left(snapshot.articles, article_id, key=lambda a: a.id)
    return at if at < snapshot.size and snapshot.articles[at].id == article_id else None


def read_section(snapshot: Snapshot, article_id: str, anchor: str, include_internal: bool = False) -> SectionText:
    """The section ``anchor`` ("" for the introduction) of an article. An internal article is, for a public
    caller, exactly a missing one (same error, same message)."""
    position = position_of(snapshot, article_id)
    article = snapshot.articles[position] if position is not None else None
    if article is None or (article.audience != "public" and not include_internal):
        raise ArticleNotFoundError(f"no article {article_id[:200]!r} in KB {snapshot.kb!r}")
    start = int(snapshot.starts[position])
    rows = range(start + 1, start + int(snapshot.counts[position]))
    mine = [r for r in rows if snapshot.anchors[r] == anchor] or ([start] if anchor == "" else [])
    if not mine:
        known = list(dict.fromkeys(snapshot.anchors[r] for r in rows if snapshot.anchors[r]))
        listed = ", ".join(known[:SHOWN_SECTIONS]) + (", …" if len(known) > SHOWN_SECTIONS else "")
        raise SectionNotFoundError(f"article {article_id!r} has no section {anchor[:200]!r}; its sections: "
                                   f"{listed or '(none but the introduction, section=)'}")
    chunking = snapshot.manifest.chunking or {}
    text = join_windows([snapshot.bodies[r] for r in mine], int(chunking.get("max_words", 120)),
                        int(chunking.get("overlap_words", 30)))
    return SectionText(article, snapshot.headings[mine[0]] or None, anchor, text)
