"""Pseudo-queries of a KB: what a visitor might type for each article, generated from the KB itself.

No labels exist when a KB is first indexed, so the cold-start calibration (``coldstart.py``) asks the
KB: each public article contributes its title with one word dropped (a ticket title is rarely the
article's title verbatim), a few of its headings and a few question-like sentences of its text, each
answered by that article. A form sees them typed, so each text also comes as its prefixes at 30/50/70 %
of its characters (the evaluation's shares). Everything random is drawn from one seeded generator: the
same KB gives the same pseudo-queries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from kbsuggest.index.snapshot import Snapshot

MAX_ARTICLES = 200  # articles sampled (seeded) in a large KB: the fit's cost stays bounded
HEADINGS = 2  # per article
QUESTIONS = 2  # per article
TYPED = (30, 50, 70)  # shares of a text typed, beside the whole text
MIN_CHARS = 3
QUESTION_WORDS = frozenset(
    "how what why when where which who can could do does is are should will "
    "wie was warum wann wo welche welcher wer kann können muss darf gibt "
    "comment pourquoi quand où quel quelle est".split())
SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")


@dataclass(frozen=True)
class PseudoQuery:
    text: str  # the whole text
    position: int  # the article (snapshot position) that answers it
    kind: str  # title | heading | question


def typed_prefixes(text: str) -> list[str]:
    """``text`` at each share of ``TYPED`` (at least ``MIN_CHARS``), then whole; no repeats."""
    n = len(text)
    lengths = sorted({min(n, max(MIN_CHARS, (n * p + 50) // 100)) for p in TYPED} | {n})
    return [text[:length] for length in lengths]


def drop_word(title: str, rng: np.random.Generator) -> str:
    words = title.split()
    if len(words) < 3:
        return title
    del words[int(rng.integers(len(words)))]
    return " ".join(words)


def questions(body: str) -> list[str]:
    """Sentences of ``body`` that read like a visitor's question (3 to 16 words)."""
    found = []
    for match in SENTENCE.finditer(body):
        sentence = match.group(0).strip()
        words = sentence.split()
        if 3 <= len(words) <= 16 and (sentence.endswith("?") or words[0].lower() in QUESTION_WORDS):
            found.append(sentence.rstrip("?.!").strip())
    return found


def _pick(items: list[str], n: int, rng: np.random.Generator) -> list[str]:
    if len(items) <= n:
        return items
    return [items[i] for i in sorted(rng.choice(len(items), n, replace=False))]


def pseudo_queries(snapshot: Snapshot, seed: int = 0) -> list[PseudoQuery]:
    """The pseudo-queries of the public articles of ``snapshot`` (all articles when none is public)."""
    rng = np.random.default_rng(seed)
    public = [i for i, a in enumerate(snapshot.articles) if a.audience == "public"] or list(range(snapshot.size))
    if len(public) > MAX_ARTICLES:
        public = sorted(rng.choice(public, MAX_ARTICLES, replace=False).tolist())
    out: list[PseudoQuery] = []
    for position in public:
        article = snapshot.articles[position]
        out.append(PseudoQuery(drop_word(article.title, rng), position, "title"))
        rows = range(int(snapshot.starts[position]), int(snapshot.starts[position] + snapshot.counts[position]))
        headings = list(dict.fromkeys(h for h in (snapshot.headings[r] for r in rows)
                                      if h and h != article.title and len(h.split()) >= 2))
        out += [PseudoQuery(h, position, "heading") for h in _pick(headings, HEADINGS, rng)]
        asked = list(dict.fromkeys(q for r in rows for q in questions(snapshot.bodies[r])))
        out += [PseudoQuery(q, position, "question") for q in _pick(asked, QUESTIONS, rng)]
    return [q for q in out if len(q.text) >= MIN_CHARS]
