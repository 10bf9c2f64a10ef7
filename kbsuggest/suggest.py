"""Suggester: text -> the top-k articles. The single core that the API, the CLI and evaluation call.

One result per article (its best-scoring chunk wins), internal articles only for agents, nothing
below ``min_score``. Everything that can be prepared at load time is, so a query costs one embedding
and one FAISS search; a repeated query (typists often retype, widgets re-ask) costs neither thanks to
an LRU cache of query embeddings keyed by the normalized text (``query_cache_size``, 0 = off).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from kbsuggest.config import Settings
from kbsuggest.embed import Embedder, create_embedder, model_file_of
from kbsuggest.errors import IndexCorruptError
from kbsuggest.store import open_db
from kbsuggest.tuning import effective_settings
from kbsuggest.vectors import KB_FILE, Manifest, load_index, single_query_threads

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
        # Single-query embedding: the backend's unpadded path when it has one; cached when configured.
        encode_one = getattr(embedder, "encode_one", None) or (lambda text: embedder.encode([text]))
        size = settings.query_cache_size
        self._embed_query = lru_cache(maxsize=size)(encode_one) if size else encode_one

    def cache_info(self):
        """Hits, misses and size of the query-embedding cache (None when it is off)."""
        info = getattr(self._embed_query, "cache_info", None)
        return info() if info else None

    @classmethod
    def load(cls, settings: Settings, embedder: Embedder | None = None) -> "Suggester":
        """Load the index at ``settings.index_dir``; the embedder must be the one that built it."""
        embedder = embedder or create_embedder(settings.embedder, settings.model_path, settings.embed_batch_size,
                                               settings.onnx_threads)
        settings = effective_settings(settings, embedder.name)  # a tuned threshold, unless min_score is explicit
        index, manifest = load_index(settings.index_dir, embedder.name, embedder.dim, model_file_of(embedder))
        single_query_threads()
        kb = Path(settings.index_dir) / KB_FILE
        if not kb.is_file():
            raise IndexCorruptError(f"{str(kb)!r} is missing; rebuild the index")
        db = open_db(kb)
        try:
            articles = [ArticleInfo(r["id"], r["title"], r["url"], r["locale"], r["audience"], r["product"])
                        for r in db.query("select * from articles order by id")]
            position = {a.id: i for i, a in enumerate(articles)}
            chunks = list(db.query("select article_id, anchor, heading, body from chunks order by id"))
            if len(chunks) != index.ntotal or any(c["article_id"] not in position for c in chunks):
                raise sqlite3.DatabaseError(f"{len(chunks)} chunks for {index.ntotal} vectors, or chunks without article")
        except sqlite3.DatabaseError as exc:  # a degraded start must name the problem, not crash
            raise IndexCorruptError(f"cannot read {str(kb)!r} ({exc}); rebuild the index") from None
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
        query = normalize_query(text)
        if len(query) < self.settings.min_query_chars or self.index.ntotal == 0:
            return []
        return self._rank(self._embed_query(query), k or self.settings.default_k,
                          self.settings.min_score if min_score is None else min_score,
                          locale, product, include_internal)

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
