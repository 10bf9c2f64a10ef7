"""Suggester: text -> the top-k articles. The single core that the API, the CLI and evaluation call.

One result per article (its best-scoring chunk wins), internal articles only for agents, nothing
below ``min_score``. Everything that can be prepared at load time is, so a query costs one embedding
and one FAISS search.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kbsuggest.config import Settings
from kbsuggest.embed import Embedder, create_embedder
from kbsuggest.store import open_db
from kbsuggest.vectors import KB_FILE, Manifest, load_index

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Suggestion:
    article_id: str
    title: str
    url: str
    section: str | None  # heading of the matching section; None when it is the article's introduction
    anchor: str
    snippet: str
    score: float  # cosine similarity between the query and the matching chunk


@dataclass(frozen=True)
class ArticleInfo:
    id: str
    title: str
    url: str
    locale: str
    audience: str
    product: str


def normalize_query(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def make_snippet(body: str, limit: int) -> str:
    if len(body) <= limit:
        return body
    cut = body[:limit].rsplit(" ", 1)[0].rstrip(" ,.;:")
    return cut + "…"


class Suggester:
    def __init__(self, index, manifest: Manifest, embedder: Embedder, articles: list[ArticleInfo],
                 chunk_article: np.ndarray, chunk_anchor: list[str], chunk_heading: list[str],
                 chunk_snippet: list[str], settings: Settings) -> None:
        self.index = index
        self.manifest = manifest
        self.embedder = embedder
        self.articles = articles
        self.settings = settings
        self._chunk_article = chunk_article  # chunk row -> position in self.articles
        self._chunk_anchor = chunk_anchor
        self._chunk_heading = chunk_heading
        self._chunk_snippet = chunk_snippet

    @classmethod
    def load(cls, settings: Settings, embedder: Embedder | None = None) -> "Suggester":
        """Load the index at ``settings.index_dir``; the embedder must be the one that built it."""
        embedder = embedder or create_embedder(settings.embedder, settings.model_path, settings.embed_batch_size)
        index, manifest = load_index(settings.index_dir, embedder.name, embedder.dim)
        db = open_db(Path(settings.index_dir) / KB_FILE)
        try:
            articles = [ArticleInfo(r["id"], r["title"], r["url"], r["locale"], r["audience"], r["product"])
                        for r in db.query("select * from articles order by id")]
            position = {a.id: i for i, a in enumerate(articles)}
            chunks = list(db.query("select article_id, anchor, heading, body from chunks order by id"))
        finally:
            db.conn.close()
        return cls(
            index, manifest, embedder, articles,
            np.array([position[c["article_id"]] for c in chunks], dtype=np.int32),
            [c["anchor"] for c in chunks], [c["heading"] for c in chunks],
            [make_snippet(c["body"], settings.snippet_chars) for c in chunks], settings,
        )

    def _allowed(self, article: ArticleInfo, locale: str | None, product: str | None, include_internal: bool) -> bool:
        return ((include_internal or article.audience == "public")
                and (not locale or article.locale == locale)
                and (not product or article.product == product))

    def suggest(self, text: str, k: int | None = None, *, locale: str | None = None, product: str | None = None,
                include_internal: bool = False, min_score: float | None = None) -> list[Suggestion]:
        """The best ``k`` articles for ``text``, best first; [] for a query under the minimum length."""
        return self.suggest_many([text], k, locale=locale, product=product, include_internal=include_internal,
                                 min_score=min_score)[0]

    def suggest_many(self, texts: list[str], k: int | None = None, *, locale: str | None = None,
                     product: str | None = None, include_internal: bool = False,
                     min_score: float | None = None) -> list[list[Suggestion]]:
        """``suggest`` for many texts with one batched embedding call (offline replay, evaluation)."""
        queries = [normalize_query(t) for t in texts]
        results: list[list[Suggestion]] = [[] for _ in queries]
        todo = [i for i, q in enumerate(queries) if len(q) >= self.settings.min_query_chars]
        if not todo or self.index.ntotal == 0:
            return results
        found = self.suggest_vectors(self.embedder.encode([queries[i] for i in todo]), k, locale=locale,
                                     product=product, include_internal=include_internal, min_score=min_score)
        for row, i in enumerate(todo):
            results[i] = found[row]
        return results

    def suggest_vectors(self, vectors: np.ndarray, k: int | None = None, *, locale: str | None = None,
                        product: str | None = None, include_internal: bool = False,
                        min_score: float | None = None) -> list[list[Suggestion]]:
        """``suggest`` for texts the caller has embedded already (gap mining reuses the vectors)."""
        threshold = self.settings.min_score if min_score is None else min_score
        if self.index.ntotal == 0:
            return [[] for _ in range(len(vectors))]
        return [self._rank(np.asarray(vectors[row:row + 1], dtype=np.float32), k or self.settings.default_k,
                           threshold, locale, product, include_internal) for row in range(len(vectors))]

    def _rank(self, vector: np.ndarray, k: int, threshold: float, locale: str | None, product: str | None,
              include_internal: bool) -> list[Suggestion]:
        """Best chunk per allowed article, searching deeper while filters hide too many candidates."""
        wanted = min(self.index.ntotal, max(32, 8 * k))
        while True:
            scores, rows = self.index.search(vector, wanted)
            results: list[Suggestion] = []
            seen: set[int] = set()
            for score, row in zip(scores[0].tolist(), rows[0].tolist()):
                if score < threshold or row < 0:
                    return results  # rows come best first: nothing after this one qualifies either
                position = int(self._chunk_article[row])
                if position in seen:
                    continue
                article = self.articles[position]
                if not self._allowed(article, locale, product, include_internal):
                    continue
                seen.add(position)
                results.append(Suggestion(
                    article.id, article.title, article.url, self._chunk_heading[row] or None,
                    self._chunk_anchor[row], self._chunk_snippet[row], round(float(score), 4),
                ))
                if len(results) == k:
                    return results
            if wanted >= self.index.ntotal:
                return results
            wanted = min(self.index.ntotal, wanted * 4)
