"""What a KB author reads about a gap: keywords (c-TF-IDF), representative tickets, a suggested title,
and its timeline (trend, weekly sparkline, first and last seen)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import numpy as np

_PLACEHOLDER = re.compile(r"\[[A-Z_]+\]")  # what redaction left (gaps/redact): never a topic, and a phrase break
_BREAK = re.compile(r"[.,;:!?()\[\]{}\"<>/\\|=*#@&+]+|\s[-\u2013\u2014]\s")
_WORD = re.compile(r"[a-z][a-z'\u2019-]*")


def _token_like(word: str) -> bool:
    """A word that is an identifier, not language: digits in it, very long, or no vowel in five letters."""
    return (any(c.isdigit() for c in word) or len(word) > 20 or "_" in word
            or (len(word) >= 5 and not re.search(r"[aeiouy]", word)))


_CONNECTORS = {"to", "of", "for", "in", "into", "with", "from", "on", "as", "by", "via", "per"}  # stop words a phrase may hold inside
_FILLER = {"please", "pls", "hi", "hello", "hey", "thanks", "thank", "need", "want", "help", "like", "able", "trying"}


def phrases(text: str, longest: int = 3) -> list[str]:
    """The candidate keyphrases of ``text``: its 1- to ``longest``-word n-grams that cross no punctuation,
    redaction placeholder or token-like string, and neither start nor end with a stop word; inside, only a
    connector ("export to powerpoint" is one; "to powerpoint" and "dashboards and delete" are not)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    stop = ENGLISH_STOP_WORDS | _FILLER
    out = []
    for segment in _BREAK.split(_PLACEHOLDER.sub(" . ", text).lower()):
        run: list[str] = []
        for raw in segment.split() + ["0"]:  # a token-like sentinel flushes the last run
            word = raw.strip("'\u2019-")
            if not word or _token_like(word) or not _WORD.fullmatch(word) or word in _FILLER:
                for n in range(1, longest + 1):
                    for i in range(len(run) - n + 1):
                        gram = run[i:i + n]
                        inner = all(w not in stop or w in _CONNECTORS for w in gram[1:-1])
                        if inner and gram[0] not in stop and gram[-1] not in stop and len(gram[0]) > 1 and len(gram[-1]) > 1:
                            out.append(" ".join(gram))
                run = []
            else:
                run.append(word)
    return out


def ctfidf_keywords(docs_per_cluster: list[str], top: int = 6) -> list[list[str]]:
    """Keyphrases by class-based TF-IDF (as in BERTopic) over ``phrases``: each cluster's texts are one
    document; a phrase weighs ``tf(phrase, cluster) * log(1 + mean phrases per cluster / frequency of the
    phrase over all clusters)``. A longer phrase replaces a shorter one it contains when it weighs at least
    half as much ("dark mode" rather than "dark"); a phrase whose words are all in chosen ones is skipped."""
    from sklearn.feature_extraction.text import CountVectorizer

    if not docs_per_cluster:
        return []
    vectorizer = CountVectorizer(analyzer=phrases)
    try:
        counts = vectorizer.fit_transform(docs_per_cluster).astype(np.float64)
    except ValueError:  # no phrase at all
        return [[] for _ in docs_per_cluster]
    terms = vectorizer.get_feature_names_out()
    tf = counts.multiply(1.0 / np.maximum(counts.sum(axis=1), 1)).tocsr()
    idf = np.log(1 + counts.sum(axis=1).mean() / np.maximum(np.asarray(counts.sum(axis=0)).ravel(), 1))
    weights = tf.multiply(idf).tocsr()
    keywords = []
    for row in range(weights.shape[0]):
        line = weights.getrow(row)
        weight = dict(zip((terms[j] for j in line.indices), line.data))
        ranked = sorted(weight, key=lambda t: (-weight[t], t))
        chosen: list[str] = []
        words: set[str] = set()
        for term in ranked:
            longer = [t for t in ranked if len(t) > len(term) and f" {term} " in f" {t} " and weight[t] >= 0.5 * weight[term]]
            term = longer[0] if longer else term
            if term in chosen or set(term.split()) <= words:
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


_LEADS = {"your", "the", "a", "an", "all", "to", "up", "in", "out", "off", "on", "from", "with", "and", "or", "my"}
_FINITE = re.compile(r"\b(?:is|are|was|were|isn't|aren't|won't|can't|doesn't|don't|not|keeps?)\b|^how\b", re.IGNORECASE)


def _base_form(word: str) -> bool:
    """Could be a verb's base form: a plain lower-case word not inflected (-s, -ed, -ing)."""
    return word.isalpha() and not re.search(r"(?:s|ed|ing)$", word.lower())
STYLES = ("imperative", "how_to", "question", "noun")


def title_style(titles: list[str]) -> str:
    """The KB's own way of titling articles, by majority of its titles: ``imperative`` ("Reset your
    password": a first word followed by an article, a possessive or a particle, or a first word that
    leads such a title elsewhere in the KB, or an uninflected first word in a title with no finite verb),
    ``how_to`` ("How to ..."), ``question`` (ends with "?"),
    else ``noun`` ("Password reset"). An empty KB is imperative, the common style of help centres."""
    firsts = [t.strip().split() for t in titles if t.strip()]
    verbs = {w[0].lower() for w in firsts
             if len(w) > 1 and w[1].lower() in _LEADS and w[0].lower() not in _LEADS and _base_form(w[0])}
    votes = {style: 0 for style in STYLES}
    for words in firsts:
        text = " ".join(words).lower()
        style = ("how_to" if text.startswith("how to ") else "question" if text.endswith("?")
                 else "imperative" if words[0].lower() in verbs or (_base_form(words[0]) and len(words) > 1
                                                                    and not _FINITE.search(text)) else "noun")
        votes[style] += 1
    return max(STYLES, key=lambda s: (votes[s], -STYLES.index(s)))


def suggested_title(central_title: str, style: str = "how_to") -> str:
    """An article title in the KB's ``style`` from the ticket nearest the gap's centre: "How do I X?"
    becomes "X" (imperative), "How to X" (how_to, noun) or "How do I X?" (question); a title that
    asks no "how" keeps its words."""
    title = _OPENERS.sub("", central_title.strip()).strip()
    title = re.split(r"(?<=[?.!])\s", title)[0].rstrip(" ?!.")
    title = re.sub(r"\b(my|our)\b", "your", title, flags=re.IGNORECASE)
    match = _HOW.match(title)
    if match:
        task = title[match.end():]
        title = {"imperative": task, "question": f"How do I {task}?"}.get(style, f"How to {task}")
    return (title[:1].upper() + title[1:])[:90] if title else central_title.strip()[:90]


def resolution_steps(resolutions: list[str], top: int = 6, min_tickets: int = 2) -> list[str]:
    """Extractive steps: the sentences agents wrote in at least ``min_tickets`` of these (redacted)
    resolutions, the most common first, then in the order they usually come; each counted once per ticket."""
    seen: dict[str, list] = {}
    for text in resolutions:
        sentences = [s.strip(" -*\t") for s in re.split(r"(?<=[.!?])\s+|\n+", text or "") if len(s.strip()) > 3]
        for position, sentence in enumerate(dict.fromkeys(sentences)):
            key = re.sub(r"\W+", " ", sentence.lower()).strip()
            entry = seen.setdefault(key, [sentence, 0, 0.0])
            entry[1] += 1
            entry[2] += position / max(len(sentences), 1)
    common = sorted((e for e in seen.values() if e[1] >= min_tickets), key=lambda e: (-e[1], e[0]))[:top]
    return [e[0] for e in sorted(common, key=lambda e: (e[2] / e[1], e[0]))]


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
