"""How well a Suggester answers the held-out questions: hit@1, hit@3 and MRR@10 at shares of the text typed.

Each question's text is cut as the form sends it (``evaluation.replay.typed_length``) and ranked without a
threshold by ``Suggester.suggest_many``, the code the API runs; agent questions (tickets) see internal
articles, public ones (widget sessions) do not.
"""

from __future__ import annotations

from dataclasses import dataclass

from evaluation.replay import DEPTH, typed_length
from learning.pairs import Case

PERCENTS = (30, 50, 100)  # what `kbsuggest learn` prints and decides on
METRICS = ("hit@1", "hit@3", "mrr")


@dataclass
class Scores:
    figures: dict[str, float]  # "hit@3_30" -> share of the held-out questions
    ranks: dict[int, list[int]]  # percent -> 0-based rank of the best gold article per question (-1: absent)
    n: int

    def value(self, metric: str, percent: int) -> float:
        return self.figures[f"{metric}_{percent}"]


def _figures(ranks: list[int]) -> dict[str, float]:
    n = max(1, len(ranks))
    return {"hit@1": sum(r == 0 for r in ranks) / n, "hit@3": sum(0 <= r < 3 for r in ranks) / n,
            "mrr": sum(1 / (r + 1) for r in ranks if r >= 0) / n}


def score(suggester, cases: list[Case], percents: tuple[int, ...] = PERCENTS) -> Scores:
    ranks: dict[int, list[int]] = {p: [0] * len(cases) for p in percents}
    for agent in (False, True):
        rows = [i for i, c in enumerate(cases) if c.agent == agent]
        if not rows:
            continue
        texts = [cases[i].text[:typed_length(len(cases[i].text), p)] for p in percents for i in rows]
        found = suggester.suggest_many(texts, DEPTH, include_internal=agent, min_score=-1.0)
        for j, suggestions in enumerate(found):
            p, i = percents[j // len(rows)], rows[j % len(rows)]
            ids = [s.article_id for s in suggestions]
            ranks[p][i] = next((r for r, a in enumerate(ids) if a in cases[i].gold), -1)
    figures = {f"{m}_{p}": round(v, 4) for p in percents for m, v in _figures(ranks[p]).items()}
    return Scores(figures, ranks, len(cases))


def table(before: Scores, after: Scores | None, percents: tuple[int, ...] = PERCENTS) -> list[str]:
    """Lines of a before/after table, one row per metric and share typed."""
    lines = [f"{'held-out (' + str(before.n) + ')':<18} {'before':>7} {'after':>7} {'change':>7}"]
    for p in percents:
        for m in METRICS:
            b = before.value(m, p)
            a = after.value(m, p) if after else None
            shown = f"{a:>7.3f} {a - b:>+7.3f}" if a is not None else f"{'-':>7} {'':>7}"
            lines.append(f"{m + ' at ' + str(p) + '%':<18} {b:>7.3f} {shown}")
    return lines
