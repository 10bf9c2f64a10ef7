"""Match spans: which words of a suggestion's title and snippet the query matched, for the widget's ``<mark>``.

The words are those ranking matched (``Query.terms``: the typed content words, the completions of a
half-typed last word, typo repairs) plus a half-typed last word as a prefix ("pass" marks the "Pass"
of "Passwort"). Tokens come from the one tokenizer (``tokens.py``), folded the same way, so what is
highlighted is what was matched. Offsets are in Unicode code points, ``[start, end)``; the widget
slices ``Array.from(text)``. Cost: one regex pass over a title and a ≤200-character snippet per
suggestion (a few microseconds).
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
        found: Spans = []
        for match in TOKEN.finditer(text):
            word = fold(match.group())
            if word in self.words:
                found.append([match.start(), match.end()])
            elif self.prefix and word.startswith(self.prefix):
                # the typed part only, when folding kept the length (else the whole word)
                end = match.start() + len(self.prefix) if len(word) == len(match.group()) else match.end()
                found.append([match.start(), end])
        return found
