"""Articles -> chunks: one per section, long sections split into overlapping word windows.

The embedded text is "title / heading path" then the section text, so a chunk of a section named
"If the reset email never arrives" still knows it belongs to "Reset your password".

Each article also gets a chunk of its title alone: ticket titles are short and phrased like article
titles, and a title diluted by a section's text scores far lower against them (measured on the
sample KB with MiniLM: "I forgot my password" vs "Reset your password" 0.83 alone, 0.54 with the
introduction, behind the "Change your password" section at 0.65).

``max_chunks`` bounds one article (a 1 MiB file of headings would otherwise be 100,001 chunks to embed):
the article keeps its first chunks, title and opening sections included, and says so in a warning.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

from kbsuggest.domain import Article, Chunk


def windows(words: list[str], size: int, overlap: int) -> Iterator[list[str]]:
    """Consecutive pieces of at most ``size`` words, each repeating ``overlap`` words of the last."""
    if len(words) <= size:
        yield words
        return
    step = max(1, size - overlap)
    for start in range(0, len(words), step):
        yield words[start:start + size]
        if start + size >= len(words):
            return


def _chunks(article: Article, max_words: int, overlap_words: int) -> Iterator[Chunk]:
    opening = article.sections[0].text.split() if article.sections else []
    yield Chunk(article.id, "", "", article.title, " ".join(opening[:max_words]))
    for section in article.sections:
        header = " / ".join((article.title, *section.path))
        for piece in windows(section.text.split(), max_words, overlap_words):
            body = " ".join(piece)
            yield Chunk(article.id, section.anchor, section.heading, f"{header}\n{body}" if body else header, body)


def chunk_article(article: Article, max_words: int = 120, overlap_words: int = 30) -> list[Chunk]:
    return list(_chunks(article, max_words, overlap_words))


def bounded_chunks(article: Article, max_words: int, overlap_words: int,
                   max_chunks: int) -> tuple[list[Chunk], str | None]:
    """The article's first ``max_chunks`` chunks, and a warning when there were more."""
    chunks = _chunks(article, max_words, overlap_words)
    kept = list(islice(chunks, max_chunks))
    left_out = sum(1 for _ in chunks)  # counted, not kept: the bound is on memory and embedding time too
    if not left_out:
        return kept, None
    return kept, (f"{len(kept) + left_out:,} chunks, over the bound of {max_chunks}: indexed the first {len(kept)} "
                  f"(up to section {kept[-1].heading[:60] or '(introduction)'!r}); split the article, or raise "
                  f"KBSUGGEST_MAX_CHUNKS_PER_ARTICLE")
