"""Baselines measured in the same run as kbsuggest: BM25 and dense retrieval over whole articles.

Both see the same articles as the public form (internal ones only with ``include_internal``) and
rank the same prefixes, so differences come from the ranking alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from evaluation.replay import Ranking
from kbsuggest.errors import MissingDependencyError
from kbsuggest.index.kbdb import whole_articles  # noqa: F401  (the baselines' documents)
from kbsuggest.rank.suggester import normalize_query


class BM25Ranker:
    """Okapi BM25 (bm25s) over whole articles, English stop words removed."""

    name = "bm25"

    def __init__(self, documents: list[tuple[str, str]]) -> None:
        try:
            import bm25s
        except ImportError as exc:
            raise MissingDependencyError("the BM25 baseline needs bm25s: pip install 'kbsuggest[jobs]'") from exc
        self._bm25s = bm25s
        self.ids = [article for article, _ in documents]
        self.retriever = bm25s.BM25()
        self.retriever.index(bm25s.tokenize([text for _, text in documents], stopwords="en", show_progress=False),
                             show_progress=False)

    def rank(self, texts: Sequence[str], k: int) -> list[Ranking]:
        tokens = self._bm25s.tokenize(list(texts), stopwords="en", return_ids=False, show_progress=False)
        docs, scores = self.retriever.retrieve(tokens, k=min(k, len(self.ids)), show_progress=False, n_threads=1)
        return [[(self.ids[d], round(float(s), 4)) for d, s in zip(row_docs, row_scores) if s > 0]
                for row_docs, row_scores in zip(docs.tolist(), scores.tolist())]


class DenseRanker:
    """Cosine similarity between the query and one embedding of each whole article."""

    name = "dense"

    def __init__(self, documents: list[tuple[str, str]], embedder, min_query_chars: int = 3) -> None:
        self.ids = [article for article, _ in documents]
        self.embedder = embedder
        self.min_query_chars = min_query_chars
        self.matrix = embedder.encode([text for _, text in documents])

    def rank(self, texts: Sequence[str], k: int) -> list[Ranking]:
        queries = [normalize_query(t) for t in texts]
        todo = [i for i, q in enumerate(queries) if len(q) >= self.min_query_chars]
        out: list[Ranking] = [[] for _ in queries]
        if not todo:
            return out
        scores = self.embedder.encode([queries[i] for i in todo]) @ self.matrix.T
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        for row, i in enumerate(todo):
            out[i] = [(self.ids[j], round(float(scores[row, j]), 4)) for j in order[row]]
        return out
