"""Query understanding for half-typed titles: tokens, a KB vocabulary, completion and typo repair.

Customers send fragments ("sso log", "refund for dou"). A sentence embedding of a half word is
noise, so before embedding, the last token (when the text does not end in a space) is completed to
the vocabulary word it starts that most often follows the previous word in the KB, else the most
frequent one ("passw" -> "password", "how do I tra" -> "track" when the KB says "I track" most),
and other words unknown to the KB are repaired to the closest vocabulary word within Meilisearch's
typo budget (1 edit from 5 characters, 2 from 9). A query of stop words only ("how do i") means nothing yet: it gets no
suggestion. The vocabulary is built once when the index is loaded, from titles, headings and text.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from kbsuggest.rank.tokens import STOP_WORDS, TOKEN, fold, tokens

MIN_COMPLETE = 2  # a last token shorter than this is too ambiguous to complete
REPAIR_CACHE = 50_000  # words whose repair is remembered (~5 MB at most)
MAX_EXPANSIONS = 5  # completions of the last token the lexical index matches
# log(1 + count after the previous word) weighs this much more than log(1 + occurrences): the bigram
# decides, frequency breaks ties (on StackFAQ prefixes the right word comes first 58% of the time,
# against 48% by document frequency re-ranked by the query's other terms).
BIGRAM_WEIGHT = 3.0
# Work per query is bounded whatever its length (a 2,000-character chat message of unknown words cost
# 15x a normal query): only the first MAX_WORDS words are understood (the embedding sees the first ~256
# tokens anyway) and at most MAX_REPAIRS of them get a typo repair (a vocabulary scan each).
MAX_WORDS = 64
MAX_REPAIRS = 6


def max_typos(word: str) -> int:
    return 0 if len(word) < 5 else 1 if len(word) < 9 else 2


@dataclass(frozen=True)
class Query:
    text: str  # what is embedded: the words with the last one completed and typos repaired
    terms: tuple[tuple[str, ...], ...]  # per content word, the vocabulary words it matches (alternatives)
    empty: bool  # nothing to search for (stop words only, or no word at all)


class Vocabulary:
    """Words of the KB with their document frequency; prefix completion and typo repair."""

    def __init__(self, documents: Iterable[str | list[str]], stop_words: frozenset[str] = STOP_WORDS) -> None:
        """``documents``: texts, or their ``tokens`` already (a loaded KB tokenizes each article once);
        ``stop_words``: the words of the KB's languages that carry no topic (``language.py``)."""
        self.stop_words = stop_words
        sequences = [text if isinstance(text, list) else tokens(text) for text in documents]
        self.size = len(sequences)
        self.words = sorted(set().union(*sequences))
        index = {w: i for i, w in enumerate(self.words)}
        ids = [np.array([index[w] for w in words], dtype=np.int64) for words in sequences]
        flat = np.concatenate(ids) if ids else np.zeros(0, np.int64)
        lengths = np.array([len(w) for w in ids], dtype=np.int64)
        self.tf = np.bincount(flat, minlength=len(self.words))  # occurrences, for completion
        n = max(self.size, 1)
        pairs, counts = np.unique(flat * n + np.repeat(np.arange(self.size), lengths), return_counts=True)
        self.df = np.bincount(pairs // n, minlength=len(self.words)).astype(np.int32)
        # (word id, document, occurrences) of each word in each document, and each document's length: a
        # LexicalIndex takes them over for its postings by stem and leaves None (nothing here reads them)
        self.occurrences: tuple[np.ndarray, ...] | None = (pairs // n, pairs % n, counts, lengths)
        # Word pairs (previous word, next word) as sorted keys prev * |V| + next with their counts: a
        # bigram model of the KB's wording, so "how do I tra" completes to what follows "i" in the KB.
        pairs = np.concatenate([w[:-1] * len(self.words) + w[1:] for w in ids if len(w) > 1] or [np.zeros(0, np.int64)])
        self._pairs, self._pair_counts = np.unique(pairs, return_counts=True)
        self._index = index  # word -> position in self.words; also the membership test
        self._long = [w for w in self.words if len(w) >= 4]  # typo targets (repairs a >=5-char word)
        self._repaired: dict[str, str | None] = {}  # a plain dict, no cycle: see kbs/registry.py's gc.freeze

    def memory_bytes(self) -> int:
        """Approximate memory of the words, their counts and the bigram table."""
        return (self.df.nbytes + self.tf.nbytes + self._pairs.nbytes + self._pair_counts.nbytes
                + sum(len(w) + 110 for w in self.words))

    def __contains__(self, word: str) -> bool:
        return word in self._index

    def _range(self, prefix: str) -> tuple[int, int]:
        """Positions in ``self.words`` of the words starting with ``prefix``."""
        return bisect.bisect_left(self.words, prefix), bisect.bisect_left(self.words, prefix + "\U0010ffff")

    def completions(self, prefix: str, previous: str | None = None, limit: int = MAX_EXPANSIONS) -> list[str]:
        """Vocabulary words starting with ``prefix`` (the word itself included), likeliest first: the
        ones that follow ``previous`` most often in the KB, then the most frequent."""
        lo, hi = self._range(prefix)
        if lo == hi:
            return []
        score = np.log1p(self.tf[lo:hi].astype(np.float64))
        row = self._index.get(previous) if previous else None
        if row is not None:
            base = row * len(self.words)
            start, end = np.searchsorted(self._pairs, [base + lo, base + hi])
            follows = self._pairs[start:end] - base - lo
            score[follows] += BIGRAM_WEIGHT * np.log1p(self._pair_counts[start:end])
        top = lo + np.argsort(-score, kind="stable")[:limit]
        return [self.words[i] for i in top]

    def repair(self, word: str) -> str | None:
        """The closest vocabulary word within the typo budget (ties: most frequent), or None.

        Remembered per word: a typist re-sends the same misspelt word with every keystroke after it,
        and a scan of the vocabulary is most of the cost of understanding a query."""
        if word not in self._repaired:
            if len(self._repaired) >= REPAIR_CACHE:
                self._repaired.clear()
            self._repaired[word] = self._closest(word)
        return self._repaired[word]

    def _closest(self, word: str) -> str | None:
        budget = max_typos(word)
        if not budget or not self._long:
            return None
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        found = process.extract(word, self._long, scorer=Levenshtein.distance, score_cutoff=budget, limit=8)
        if not found:
            return None
        best = min(found, key=lambda m: (m[1], -int(self.df[self._index[m[0]]]), m[0]))
        return best[0]

    def understand(self, text: str) -> Query:
        """Complete the last word (unless followed by a space), repair unknown words, note content terms."""
        matches = list(TOKEN.finditer(text))
        partial = bool(matches) and matches[-1].end() == len(text)
        if len(matches) > MAX_WORDS:
            matches, partial = matches[:MAX_WORDS], False
        repairs = MAX_REPAIRS
        previous: str | None = None  # the word before, as understood, stop words included
        pieces: list[str] = []
        terms: list[tuple[str, ...]] = []
        content = False
        cursor = 0
        stop = self.stop_words
        for i, match in enumerate(matches):
            word, shown = fold(match.group()), match.group()
            alternatives: tuple[str, ...] = ()
            if partial and i == len(matches) - 1 and len(word) >= MIN_COMPLETE:
                alternatives = tuple(self.completions(word, previous)) or tuple(filter(None, [self.repair(word)]))
                if alternatives:
                    shown = alternatives[0]
            elif word in self._index:
                alternatives = (word,)
            elif repairs:
                repairs -= 1
                if fixed := self.repair(word):
                    alternatives, shown = (fixed,), fixed
            pieces.append(text[cursor:match.start()] + shown)
            cursor = match.end()
            previous = alternatives[0] if alternatives else word
            if word not in stop or (alternatives and alternatives[0] not in stop and shown != match.group()):
                content = True
                terms.append(alternatives)  # () for a word the KB lacks: it still counts against coverage
        pieces.append(text[cursor:])
        return Query("".join(pieces), tuple(terms), not content)
