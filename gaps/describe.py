"""What a KB author reads about a gap: keywords (c-TF-IDF), representative tickets, a suggested title,
and its timeline (trend, weekly sparkline, first and last seen)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import numpy as np

from gaps.redact import PLACEHOLDERS

# placeholders left by redaction are not topics
_PLACEHOLDER_WORDS = [placeholder.strip("[]").lower() for placeholder in PLACEHOLDERS]


def ctfidf_keywords(docs_per_cluster: list[str], top: int = 6) -> list[list[str]]:
    """Class-based TF-IDF (as in BERTopic): each cluster's tickets are one document; a term weighs
    ``tf(term, cluster) * log(1 + mean words per cluster / frequency of term over all clusters)``."""
    from sklearn.feature_extraction.text import CountVectorizer, ENGLISH_STOP_WORDS

    if not docs_per_cluster:
        return []
    vectorizer = CountVectorizer(ngram_range=(1, 2), stop_words=list(ENGLISH_STOP_WORDS | set(_PLACEHOLDER_WORDS)),
                                 token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z0-9]+\b")
    try:
        counts = vectorizer.fit_transform(docs_per_cluster).astype(np.float64)
    except ValueError:  # nothing but stop words
        return [[] for _ in docs_per_cluster]
    terms = vectorizer.get_feature_names_out()
    tf = counts.multiply(1.0 / np.maximum(counts.sum(axis=1), 1)).tocsr()
    idf = np.log(1 + counts.sum(axis=1).mean() / np.maximum(np.asarray(counts.sum(axis=0)).ravel(), 1))
    weights = tf.multiply(idf).tocsr()
    keywords = []
    for row in range(weights.shape[0]):
        line = weights.getrow(row)
        order = np.argsort(-line.data, kind="stable")
        chosen: list[str] = []
        words: set[str] = set()
        for j in line.indices[order]:
            term = terms[j]
            if set(term.split()) <= words:  # a word of a chosen phrase, or a phrase of chosen words
                continue
            chosen.append(term)
            words.update(term.split())
            if len(chosen) == top:
                break
        keywords.append(chosen)
    return keywords


def representatives(vectors: np.ndarray, centre: np.ndarray, count: int = 5) -> list[int]:
    """Positions of the ``count`` rows nearest the centre, nearest first, skipping exact repeats."""
    order = np.argsort(-(vectors @ centre), kind="stable")
    chosen: list[int] = []
    seen: list[np.ndarray] = []
    for i in order:
        if any(float(vectors[i] @ s) > 0.995 for s in seen):
            continue
        chosen.append(int(i))
        seen.append(vectors[i])
        if len(chosen) == count:
            break
    return chosen


_OPENERS = re.compile(r"^(?:(?:hi|hello|hey|dear \w+|good (?:morning|afternoon))\b[\s,!.]*)?"
                      r"(?:(?:please|pls|so|um|ok)\b[\s,]*)?", re.IGNORECASE)
_HOW = re.compile(r"^(?:how (?:do|can|would|should) (?:i|we|you)|how to|can (?:i|we|you)|is (?:it|there a way) "
                  r"(?:possible )?to|is there a way to|i (?:want|need|would like) to|i'd like to)\s+", re.IGNORECASE)


def suggested_title(central_title: str) -> str:
    """An article-style title from the ticket nearest the gap's centre ("How do I X?" -> "How to X")."""
    title = _OPENERS.sub("", central_title.strip()).strip()
    title = re.split(r"(?<=[?.!])\s", title)[0].rstrip(" ?!.")
    match = _HOW.match(title)
    if match:
        title = "How to " + title[match.end():]
    title = re.sub(r"\b(my|our)\b", "your", title, flags=re.IGNORECASE)
    return (title[:1].upper() + title[1:])[:90] if title else central_title.strip()[:90]


def parse_day(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp[:19])


def timeline(stamps: list[str], as_of: datetime, weeks: int = 12) -> dict:
    """Counts for the trend (last 30 days vs the 30 before), a weekly sparkline ending at ``as_of``,
    first and last seen."""
    days = np.array([(as_of - parse_day(s)).total_seconds() / 86400 for s in stamps])
    weekly = [int(((days >= 7 * w) & (days < 7 * (w + 1))).sum()) for w in reversed(range(weeks))]
    return {
        "last_30_days": int(((days >= 0) & (days < 30)).sum()),
        "previous_30_days": int(((days >= 30) & (days < 60)).sum()),
        "weekly": weekly,
        "first_seen": min(stamps)[:10],
        "last_seen": max(stamps)[:10],
    }


def trend_label(last: int, previous: int) -> str:
    if previous == 0:
        return "new" if last else "quiet"
    change = (last - previous) / previous
    return "rising" if change >= 0.25 else "falling" if change <= -0.25 else "steady"


def recency_weight(stamps: list[str], as_of: datetime, half_life_days: float) -> float:
    """Impact: each ticket counts 1 when filed at ``as_of``, halving every ``half_life_days`` before."""
    ages = np.array([max((as_of - parse_day(s)) / timedelta(days=1), 0.0) for s in stamps])
    return float(np.sum(0.5 ** (ages / half_life_days)))
