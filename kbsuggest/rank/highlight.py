"""Match spans: which words of a suggestion's title and snippet the query matched, for the widget's ``<mark>``.

The words are those ranking matched (``Query.terms``: the typed content words, the completions of a
half-typed last word, typo repairs) plus a half-typed last word as a prefix ("pass" marks the "Pass"
of "Passwort"). Tokens come from the one tokenizer (``tokens.py``), folded the same way, so what is
highlighted is what was matched. Offsets are in Unicode code points, ``[start, end)``; the widget
slices ``Array.from(text)``. Cost: one regex pass over a title and a ≤200-character snippet per
suggestion, the text folded once (a few microseconds: benchmarks/ranking_latency.py).
"""

from __future__ import annotations

from kbsuggest.rank.query import MIN_COMPLETE, Query
from kbsuggest.rank.tokens import STOP_WORDS, TOKEN, fold

Spans = list[list[int]]


class Highlighter:
    def __init__(self, text: str, query: Query) -> None:
        self.words = {word for alternatives in query.terms for word in alternatives}
        typed = list(TOKEN.finditer(text))
        self.words.update(w for w in (fold(m.group()) for m in typed) if w not in STOP_WORDS)
        last = fold(typed[-1].group()) if typed and typed[-1].end() == len(text) else ""
        self.prefix = last if len(last) >= MIN_COMPLETE and last not in STOP_WORDS else ""

    def spans(self, text: str) -> Spans:
        # A snippet's cut mark folds to "...": left on, it would send every cut snippet down the per-token path.
        text = text.rstrip("…")
        folded = fold(text)
        if len(folded) != len(text):  # a rare letter folded to more or fewer (a ligature, dotted İ): per token
            return self._merged([[m.start(), self._end(m.start(), m.end(), fold(m.group()))]
                                 for m in TOKEN.finditer(text)])
        # str.find per query word, boundaries checked around each hit: no tokenizing of the whole text
        found = []
        for word, whole in [(w, True) for w in self.words] + ([(self.prefix, False)] if self.prefix else []):
            at = folded.find(word)
            while at >= 0:
                end = at + len(word)
                if (at == 0 or not _inside(folded[at - 1])) and (not whole or end == len(folded) or not _inside(folded[end])):
                    found.append([at, end])
                at = folded.find(word, end)
        return self._merged(found)

    def _end(self, start: int, end: int, word: str) -> int:
        """Where the mark of a token ends: the whole word, the typed prefix, or nothing (``start``)."""
        if word in self.words:
            return end
        return min(end, start + len(self.prefix)) if self.prefix and word.startswith(self.prefix) else start

    @staticmethod
    def _merged(spans: Spans) -> Spans:
        """Non-empty spans in order, the longer of two that overlap (a word and the prefix it starts with)."""
        out: Spans = []
        for start, end in sorted(spans, key=lambda s: (s[0], -s[1])):
            if end > start and (not out or start >= out[-1][1]):
                out.append([start, end])
        return out


def _inside(char: str) -> bool:
    """A character a token continues with (``TOKEN``: letters and digits, not ``_``)."""
    return char.isalnum()
