"""Lexical matching over titles, headings and text, built once when the index is loaded.

Per article and field (``title``: the title and section headings; ``text``: everything), a posting
list of the words it contains. A query's content terms (each a tuple of alternatives: the completions
of a half-typed last word, or a typo repair) are scored by **IDF-weighted coverage**: the share of
the query's information (sum of IDF) that the field contains. Coverage is in [0, 1] whatever the
KB's size or wording, which is what lets a single calibration (``kbsuggest/calibration.py``) and a
single threshold work across KBs, where raw BM25 scores would not. A word the KB has never seen
still counts in the denominator: a query about something the KB lacks covers little. Words match by
stem (``language.py``: "Konsequenzen" covers "Konsequenz"); completion and typo repair stay on the words.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np

from kbsuggest.rank.query import Query, Vocabulary
from kbsuggest.rank.tokens import STOP_WORDS, tokens

FIELDS = ("title", "text")


class LexicalIndex:
    def __init__(self, titles: Sequence[str | list[str]], texts: Sequence[str | list[str]],
                 stems: Mapping[str, str] | None = None, stop_words: frozenset[str] = STOP_WORDS) -> None:
        """``titles[i]``: article i's title and headings; ``texts[i]``: its title, headings and body (texts,
        or their ``tokens``). An article left out (an internal one, in the public index) has empty texts: it
        adds no word and no document, so nothing about it can be learnt from this index. ``stems``: word ->
        the stem it matches by (default: itself); ``stop_words``: what the query understanding skips."""
        self.articles = len(texts)  # positions, as in the snapshot
        self.size = sum(1 for text in texts if text)  # documents, for IDF
        self.vocabulary = Vocabulary(texts, stop_words)
        self._stems = stems or {}
        titles_postings: dict[str, list[int]] = defaultdict(list)
        for position, text in enumerate(titles):
            for word in {self.stem(w) for w in (text if isinstance(text, list) else tokens(text))}:
                titles_postings[word].append(position)
        # the vocabulary's postings by word become the text field's by stem (it reads none of them itself)
        surface, self.vocabulary.postings = self.vocabulary.postings, {}
        by_stem: dict[str, list[np.ndarray]] = defaultdict(list)
        for word, hits in surface.items():
            by_stem[self.stem(word)].append(hits)
        text_postings = {w: h[0] if len(h) == 1 else np.unique(np.concatenate(h)) for w, h in by_stem.items()}
        self._postings = {"title": {w: np.array(p, dtype=np.int32) for w, p in titles_postings.items()},
                          "text": text_postings}
        self._unseen_idf = self.idf(0)

    def stem(self, word: str) -> str:
        return self._stems.get(word, word)

    def idf(self, df: int) -> float:
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))  # BM25's IDF: never negative

    def term_idf(self, alternatives: Sequence[str]) -> float:
        """A term weighs as its most frequent alternative (the likeliest reading of a prefix)."""
        if not alternatives:
            return self._unseen_idf
        return self.idf(len(self._postings["text"].get(self.stem(alternatives[0]), ())))

    def stems_of(self, alternatives: Sequence[str]) -> list[str]:
        """The distinct stems a term's alternatives match by, in their order."""
        return list(dict.fromkeys(self.stem(w) for w in alternatives))

    def coverage(self, query: Query) -> dict[str, np.ndarray]:
        """Per field, each article's IDF-weighted share of the query's terms it contains (n_articles,)."""
        out = {f: np.zeros(self.articles, dtype=np.float32) for f in FIELDS}
        total = 0.0
        for alternatives in query.terms:
            weight = self.term_idf(alternatives)
            total += weight
            matched = self.stems_of(alternatives)
            for field in FIELDS:
                present = np.zeros(self.articles, dtype=bool)
                for word in matched:
                    hits = self._postings[field].get(word)
                    if hits is not None:
                        present[hits] = True
                out[field][present] += weight
        if total:
            for field in FIELDS:
                out[field] /= total
        return out

    def memory_bytes(self) -> int:
        """Approximate memory of the postings and the vocabulary (arrays, plus ~120 bytes per entry)."""
        arrays = sum(a.nbytes for field in self._postings.values() for a in field.values())
        entries = sum(len(field) for field in self._postings.values())
        return arrays + 120 * entries + self.vocabulary.memory_bytes()
