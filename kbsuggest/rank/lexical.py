"""Lexical matching over titles, headings and text, built once when the index is loaded.

Per article and field (``title``: the title and section headings; ``text``: everything), a posting
list of the words it contains. A query's content terms (each a tuple of alternatives: the completions
of a half-typed last word, or a typo repair) are scored by **IDF-weighted coverage**: the share of
the query's information (sum of IDF) that the field contains. Coverage is in [0, 1] whatever the
KB's size or wording, which is what lets a single calibration (``kbsuggest/calibration.py``) and a
single threshold work across KBs, where raw BM25 scores would not. A word the KB has never seen
still counts in the denominator: a query about something the KB lacks covers little. Words match by
stem (``language.py``: "Konsequenzen" covers "Konsequenz"); completion and typo repair stay on the words.

Coverage says how much of the query an article has, not which of the articles that have it says it most:
for that, each article's BM25 over its text, divided by the best article's for the same query, also in
[0, 1] (raw BM25 is not comparable across KBs; relative to the best it is). Added 2026-12-03: held out over
the 8 domains of ``benchmarks/domains.py``, hit@3 with no threshold at 30/50/100 % typed 0.302/0.553/0.884
-> 0.312/0.572/0.892; scaled to the sum of the query's IDF instead of the best article's, 0.310/0.570/0.888,
but whole questions then scored lower than one-word prefixes and the form showed less (0.849 -> 0.818 at
100 %). The last word's 30 likeliest completions instead of 5 changed nothing (0.313/0.575/0.892).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from kbsuggest.rank.query import Query, Vocabulary
from kbsuggest.rank.tokens import STOP_WORDS, tokens

FIELDS = ("title", "text")
K1, B = 1.2, 0.75  # BM25's usual term-frequency saturation and length normalisation


def _field(stem_names: list[str], stems: np.ndarray, articles: np.ndarray, counts: np.ndarray,
           lengths: np.ndarray) -> tuple[dict, dict]:
    """stem -> the articles it occurs in, and stem -> tf / (tf + k1 (1 - b + b len / mean len)) in each (BM25's
    term weight without its IDF, in [0, 1)), from (stem id, article, occurrences) triples (a stem may repeat
    per article: the words it stems) and each article's length."""
    n = max(len(lengths), 1)
    keys, inverse = np.unique(stems * n + articles, return_inverse=True)
    tf = np.bincount(inverse, weights=counts)
    stem_of, article_of = keys // n, (keys % n).astype(np.int32)
    mean_length = float(lengths[lengths > 0].mean()) if lengths.any() else 1.0
    saturation = (tf / (tf + K1 * (1 - B + B * lengths[article_of] / mean_length))).astype(np.float32)
    bounds = np.searchsorted(stem_of, np.arange(len(stem_names) + 1))
    spans = [(w, lo, hi) for w, lo, hi in zip(stem_names, bounds[:-1], bounds[1:]) if hi > lo]
    return {w: article_of[lo:hi] for w, lo, hi in spans}, {w: saturation[lo:hi] for w, lo, hi in spans}


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
        # Per field, postings by stem; the text field's from the vocabulary's (word, document, count) triples
        # (it reads none of them itself), with each article's BM25 term-frequency saturation of that stem
        words, documents, counts, lengths = self.vocabulary.occurrences
        self.vocabulary.occurrences = None
        stem_names = sorted({self.stem(w) for w in self.vocabulary.words})
        stem_index = {w: i for i, w in enumerate(stem_names)}
        word_stem = np.array([stem_index[self.stem(w)] for w in self.vocabulary.words], dtype=np.int64)
        # a title word missing from its text is not in the vocabulary, so no query can match it
        title_ids = [np.array([i for i in (stem_index.get(self.stem(w)) for w in (t if isinstance(t, list) else tokens(t)))
                               if i is not None], dtype=np.int64) for t in titles]
        title_lengths = np.array([len(t) for t in title_ids], dtype=np.int64)
        title_stems = np.concatenate(title_ids) if title_ids else np.zeros(0, np.int64)
        title_postings, _ = _field(stem_names, title_stems, np.repeat(np.arange(len(title_ids)), title_lengths),
                                   np.ones(len(title_stems)), title_lengths)
        text_postings, saturation = _field(stem_names, word_stem[words], documents, counts, lengths)
        self._postings = {"title": title_postings, "text": text_postings}
        # each stem's BM25 term weight in each article of its postings: its IDF times its saturation
        self._bm25 = {w: (self.idf(len(hits)) * saturation[w]).astype(np.float32) for w, hits in text_postings.items()}
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

    def coverage(self, query: Query, allowed: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Per field (``title``, ``text``), each article's IDF-weighted share of the query's terms it contains
        (n_articles,); and ``bm25``: the article's BM25 over its text (each term by its best alternative, that
        word's IDF times its saturation) relative to the best article's, in [0, 1]: which article says the
        query's words most, as a lexical engine ranks (the shares say how much of the query an article has).
        ``allowed`` (a mask of positions: what the caller may see, e.g. under a locale or product filter): the
        best article is the best of those, so a filtered caller's articles score as in a KB of their own."""
        out = {key: np.zeros(self.articles, dtype=np.float32) for key in (*FIELDS, "bm25")}
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
            self._add_bm25(out["bm25"], matched)
        if total:
            for field in FIELDS:
                out[field] /= total
        if (top := (out["bm25"] if allowed is None else out["bm25"][allowed]).max(initial=0.0)) > 0:
            out["bm25"] /= top
        return out

    def _add_bm25(self, total: np.ndarray, matched: list[str]) -> None:
        """Adds a term's BM25 weight in each article to ``total``: its best alternative's (a stem's postings
        are distinct articles, so one alternative, the usual case, adds in place)."""
        found = [word for word in matched if word in self._bm25]
        if len(found) == 1:
            total[self._postings["text"][found[0]]] += self._bm25[found[0]]
        elif found:
            best = np.zeros(self.articles, dtype=np.float32)
            for word in found:
                hits = self._postings["text"][word]
                best[hits] = np.maximum(best[hits], self._bm25[word])
            total += best

    def memory_bytes(self) -> int:
        """Approximate memory of the postings and the vocabulary (arrays, plus ~120 bytes per entry)."""
        arrays = sum(a.nbytes for field in (*self._postings.values(), self._bm25) for a in field.values())
        entries = sum(len(field) for field in self._postings.values())
        return arrays + 120 * entries + self.vocabulary.memory_bytes()
