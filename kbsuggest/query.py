"""Query understanding for half-typed titles: tokens, a KB vocabulary, completion and typo repair.

Customers send fragments ("sso log", "refund for dou"). A sentence embedding of a half word is
noise, so before embedding, the last token (when the text does not end in a space) is completed to
the most frequent vocabulary word it starts ("passw" -> "password"), and other words unknown to the
KB are repaired to the closest vocabulary word within Meilisearch's typo budget (1 edit from 5
characters, 2 from 9). A query of stop words only ("how do i") means nothing yet: it gets no
suggestion. The vocabulary is built once when the index is loaded, from titles, headings and text.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
MIN_COMPLETE = 2  # a last token shorter than this is too ambiguous to complete
MAX_EXPANSIONS = 5  # completions of the last token the lexical index matches
CONTEXT_OPTIONS = 20  # completions (by document frequency) re-ranked by the query's other terms

# English function words and support-request boilerplate: they carry no topic.
STOP_WORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below between both
but by can cannot could did do does doing don down during each few for from further had has have having he her
here hers herself him himself his how i if in into is it its itself just let me more most my myself no nor not
now of off on once only or other our ours ourselves out over own same she should so some such than that the
their theirs them themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself yourselves im ive dont cant
doesnt isnt wont didnt please hi hello thanks thank help get got use using want need trying try way
""".split())


def fold(text: str) -> str:
    """Lowercase without accents, so 'Zurücksetzen' and 'zurucksetzen' are one word."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokens(text: str) -> list[str]:
    return TOKEN.findall(fold(text))


def max_typos(word: str) -> int:
    return 0 if len(word) < 5 else 1 if len(word) < 9 else 2


@dataclass(frozen=True)
class Query:
    text: str  # what is embedded: the words with the last one completed and typos repaired
    terms: tuple[tuple[str, ...], ...]  # per content word, the vocabulary words it matches (alternatives)
    empty: bool  # nothing to search for (stop words only, or no word at all)


class Vocabulary:
    """Words of the KB with their document frequency; prefix completion and typo repair."""

    def __init__(self, documents: Iterable[str]) -> None:
        postings: dict[str, list[int]] = {}
        self.size = 0
        for position, text in enumerate(documents):
            self.size += 1
            for word in set(tokens(text)):
                postings.setdefault(word, []).append(position)
        self.postings = {w: np.array(p, dtype=np.int32) for w, p in postings.items()}  # word -> documents
        df = Counter({w: len(p) for w, p in postings.items()})
        self.words = sorted(df)
        self.df = np.array([df[w] for w in self.words], dtype=np.int32)
        self._known = set(self.words)
        self._long = [w for w in self.words if len(w) >= 4]  # typo targets (repairs a >=5-char word)

    def __contains__(self, word: str) -> bool:
        return word in self._known

    def completions(self, prefix: str, limit: int = MAX_EXPANSIONS) -> list[str]:
        """Vocabulary words starting with ``prefix``, most frequent first (the word itself included)."""
        lo = bisect.bisect_left(self.words, prefix)
        hi = bisect.bisect_left(self.words, prefix + "\U0010ffff")
        if lo == hi:
            return []
        top = lo + np.argsort(-self.df[lo:hi], kind="stable")[:limit]
        return [self.words[i] for i in top]

    def complete(self, prefix: str, context: Sequence[tuple[str, ...]]) -> list[str]:
        """Completions of ``prefix`` likeliest first: the ones found in the documents that hold most of the
        query's other terms ("archived a gm" -> "gmail"), then by document frequency."""
        options = self.completions(prefix, CONTEXT_OPTIONS)
        if len(options) < 2 or not context:
            return options[:MAX_EXPANSIONS]
        matched = np.zeros(self.size, dtype=np.float32)
        for alternatives in context:
            present = np.zeros(self.size, dtype=bool)
            for word in alternatives:
                present[self.postings[word]] = True
            matched += present
        support = [float(matched[self.postings[o]].sum()) for o in options]
        order = sorted(range(len(options)), key=lambda i: (-support[i], i))
        return [options[i] for i in order[:MAX_EXPANSIONS]]

    def repair(self, word: str) -> str | None:
        """The closest vocabulary word within the typo budget (ties: most frequent), or None."""
        budget = max_typos(word)
        if not budget or not self._long:
            return None
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        found = process.extract(word, self._long, scorer=Levenshtein.distance, score_cutoff=budget, limit=8)
        if not found:
            return None
        best = min(found, key=lambda m: (m[1], -int(self.df[bisect.bisect_left(self.words, m[0])]), m[0]))
        return best[0]

    def understand(self, text: str) -> Query:
        """Complete the last word (unless followed by a space), repair unknown words, note content terms."""
        matches = list(TOKEN.finditer(text))
        partial = bool(matches) and matches[-1].end() == len(text)
        pieces: list[str] = []
        terms: list[tuple[str, ...]] = []
        content = False
        cursor = 0
        for i, match in enumerate(matches):
            word, shown = fold(match.group()), match.group()
            alternatives: tuple[str, ...] = ()
            if partial and i == len(matches) - 1 and len(word) >= MIN_COMPLETE:
                alternatives = tuple(self.complete(word, terms)) or tuple(filter(None, [self.repair(word)]))
                if alternatives:
                    shown = alternatives[0]
            elif word in self._known:
                alternatives = (word,)
            elif fixed := self.repair(word):
                alternatives, shown = (fixed,), fixed
            pieces.append(text[cursor:match.start()] + shown)
            cursor = match.end()
            if word not in STOP_WORDS or (alternatives and alternatives[0] not in STOP_WORDS and shown != match.group()):
                content = True
                terms.append(alternatives)  # () for a word the KB lacks: it still counts against coverage
        pieces.append(text[cursor:])
        return Query("".join(pieces), tuple(terms), not content)
