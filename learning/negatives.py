"""Hard negatives: for a pair without one recorded (tickets record no suggestions list), the article the
service shows first for its query that does not answer it — "shown and not chosen", as the form would
have shown it with the model the KB is served with today."""

from __future__ import annotations

from dataclasses import replace

from learning.pairs import Pair

SHOWN = 3  # the suggestions a form shows


def add_negatives(pairs: list[Pair], suggester, batch: int = 512) -> list[Pair]:
    gold: dict[str, set[str]] = {}
    for pair in pairs:
        gold.setdefault(pair.source, set()).add(pair.article_id)
    todo = [i for i, p in enumerate(pairs) if not p.negatives]
    out = list(pairs)
    for agent in (False, True):
        rows = [i for i in todo if pairs[i].agent == agent]
        for start in range(0, len(rows), batch):
            chunk = rows[start:start + batch]
            found = suggester.suggest_many([pairs[i].query for i in chunk], SHOWN, include_internal=agent,
                                           min_score=-1.0)
            for i, suggestions in zip(chunk, found):
                wrong = [s.article_id for s in suggestions if s.article_id not in gold[pairs[i].source]]
                out[i] = replace(pairs[i], negatives=tuple(wrong[:1]))
    return out
