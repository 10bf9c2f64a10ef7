"""Articles -> chunks: one per section, long sections split into overlapping word windows.

The embedded text is "title / heading path" then the section text, so a chunk of a section named
"If the reset email never arrives" still knows it belongs to "Reset your password".

Each article also gets a chunk of its title alone: ticket titles are short and phrased like article
titles, and a title diluted by a section's text scores far lower against them (measured on the
sample KB with MiniLM: "I forgot my password" vs "Reset your password" 0.83 alone, 0.54 with the
introduction, behind the "Change your password" section at 0.65).
"""

from __future__ import annotations

from collections.abc import Iterator

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


def chunk_article(article: Article, max_words: int = 120, overlap_words: int = 30) -> list[Chunk]:
    opening = article.sections[0].text.split() if article.sections else []
    chunks = [Chunk(article.id, "", "", article.title, " ".join(opening[:max_words]))]
    for section in article.sections:
        header = " / ".join((article.title, *section.path))
        for piece in windows(section.text.split(), max_words, overlap_words):
            body = " ".join(piece)
            text = f"{header}\n{body}" if body else header
            chunks.append(Chunk(article.id, section.anchor, section.heading, text, body))
    return chunks
