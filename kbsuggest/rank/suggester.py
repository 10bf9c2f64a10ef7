"""Suggester: text -> the top-k articles. The single core that the API, the CLI and evaluation call.

Hybrid ranking for half-typed titles: the query is understood first (``kbsuggest/query.py``: the
last word completed, typos repaired, stop-word-only queries get nothing), then every article gets
dense features (best chunk, title alone and whole-article cosine) and lexical ones (``kbsuggest/lexical.py``),
fused by a calibrated logistic model (``kbsuggest/calibration.py``) into ``score``, the probability
that the article answers the query; nothing below ``min_score`` is returned. Internal articles only
for agents. Everything that can be prepared at load time is, so a query costs one embedding and a
few vector operations; a repeated query (typists often retype, widgets re-ask) skips the embedding
thanks to an LRU cache keyed by the understood text (``query_cache_size``, 0 = off).
"""

from __future__ import annotations

import gc
import re
import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from kbsuggest.rank.calibration import FEATURES, Calibration
from kbsuggest.config import Settings
from kbsuggest.embed import Embedder, create_embedder, model_file_of
from kbsuggest.errors import IndexCorruptError
from kbsuggest.rank.lexical import LexicalIndex
from kbsuggest.rank.query import Query
from kbsuggest.db import open_db
from kbsuggest.store.thresholds import effective_settings
from kbsuggest.index.format import FLAT_MAX_VECTORS, KB_FILE, Manifest, load_index, single_query_threads, stored_vectors

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Suggestion:
    article_id: str
    title: str
    url: str
    section: str | None  # heading of the matching section; None when it is the article's introduction
    anchor: str
    snippet: str
    score: float  # calibrated probability that the article answers the query (kbsuggest/calibration.py)
    similarity: float = 0.0  # raw cosine similarity between the query and the matching chunk


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


# Above FLAT_MAX_VECTORS chunks, dense scores come from the ANN index's best chunks only (the rest
# get the lowest score retrieved); below it, one matrix product scores every chunk exactly.
ANN_DEPTH = 64  # = HNSW_EF_SEARCH: a deeper k would widen the graph search itself


class Suggester:
    def __init__(self, index, manifest: Manifest, embedder: Embedder, articles: list[ArticleInfo],
                 chunk_article: np.ndarray, chunk_anchor: list[str], chunk_heading: list[str],
                 chunk_snippet: list[str], settings: Settings, chunk_body: list[str] | None = None,
                 calibration: Calibration | None = None) -> None:
        self.index = index
        self.manifest = manifest
        self.embedder = embedder
        self.articles = articles
        self.settings = settings
        self.calibration = calibration or Calibration.load()
        n = len(articles)
        # Chunks grouped by article (stable), so per-article maxima are one reduceat.
        order = np.argsort(chunk_article, kind="stable")
        self._chunk_article = chunk_article[order]
        self._chunk_anchor = [chunk_anchor[i] for i in order]
        self._chunk_heading = [chunk_heading[i] for i in order]
        self._chunk_snippet = [chunk_snippet[i] for i in order]
        counts = np.bincount(self._chunk_article, minlength=n)
        self._has_chunks = counts > 0
        self._starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        vectors = stored_vectors(index)[order] if index.ntotal else np.zeros((0, embedder.dim), np.float32)
        self._vectors = vectors if index.ntotal <= FLAT_MAX_VECTORS else None
        self._grouped_of_row = np.empty(len(order), dtype=np.int64)
        self._grouped_of_row[order] = np.arange(len(order))
        centroids = np.zeros((n, embedder.dim), np.float32)
        if index.ntotal:
            centroids[self._has_chunks] = np.add.reduceat(vectors, self._starts[self._has_chunks], axis=0)
        norms = np.linalg.norm(centroids, axis=1, keepdims=True)
        self._centroids = centroids / np.where(norms > 0, norms, 1)
        bodies = chunk_body if chunk_body is not None else chunk_snippet
        headings: list[list[str]] = [[a.title] for a in articles]
        texts: list[list[str]] = [[a.title] for a in articles]
        for position, heading, body in zip(chunk_article.tolist(), chunk_heading, bodies):
            if heading:
                headings[position].append(heading)
            texts[position].extend([heading or "", body])
        self.lexical = LexicalIndex([" ".join(h) for h in headings], [" ".join(t) for t in texts])
        self._public = np.array([a.audience == "public" for a in articles], dtype=bool)
        self._locale = np.array([a.locale for a in articles], dtype=object)
        self._product = np.array([a.product for a in articles], dtype=object)
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
        suggester = cls(
            index, manifest, embedder, articles,
            np.array([position[c["article_id"]] for c in chunks], dtype=np.int32),
            [c["anchor"] for c in chunks], [c["heading"] for c in chunks],
            [make_snippet(c["body"], settings.snippet_chars) for c in chunks], settings,
            chunk_body=[c["body"] for c in chunks],
        )
        suggester.warm_up()
        # A loaded index is tens of thousands of long-lived objects (metadata, vocabulary): left in the
        # collected generations, every full cycle collection scans them all, a 25-40 ms pause that
        # lands on some unlucky request (measured: the HTTP p99). Frozen, they are never scanned; they
        # are still freed by reference counting when a reindex replaces this Suggester.
        gc.collect()
        gc.freeze()
        return suggester

    def warm_up(self) -> None:
        """One query through every stage before the first customer's: the typo repair's first use
        imports rapidfuzz and onnxruntime's first run allocates its buffers (tens of ms, once)."""
        query = self.understand("pasword resett for my acount lo")
        if query is not None:
            self._rank(query, self.embedder.encode([query.text]), 1, 1.0, None, None, False)

    def understand(self, text: str) -> Query | None:
        """The query to search for, or None when there is nothing to search for yet."""
        if len(normalize_query(text)) < self.settings.min_query_chars or self.index.ntotal == 0:
            return None
        query = self.lexical.vocabulary.understand(_SPACES.sub(" ", text).lstrip())
        return None if query.empty else query

    def suggest(self, text: str, k: int | None = None, *, locale: str | None = None, product: str | None = None,
                include_internal: bool = False, min_score: float | None = None) -> list[Suggestion]:
        """The best ``k`` articles for ``text``, best first; [] for a query under the minimum length."""
        query = self.understand(text)
        if query is None:
            return []
        return self._rank(query, self._embed_query(query.text.strip()), k or self.settings.default_k,
                          self.settings.min_score if min_score is None else min_score,
                          locale, product, include_internal)

    def suggest_many(self, texts: list[str], k: int | None = None, *, locale: str | None = None,
                     product: str | None = None, include_internal: bool = False,
                     min_score: float | None = None) -> list[list[Suggestion]]:
        """``suggest`` for many texts with one batched embedding call (offline replay, evaluation)."""
        queries = [self.understand(t) for t in texts]
        todo = [i for i, q in enumerate(queries) if q is not None]
        vectors = np.zeros((len(texts), self.embedder.dim), np.float32)
        if todo:
            vectors[todo] = self.embedder.encode([queries[i].text.strip() for i in todo])
        return self._rank_many(queries, vectors, k, locale, product, include_internal, min_score)

    def suggest_vectors(self, texts: list[str], vectors: np.ndarray, k: int | None = None, *,
                        locale: str | None = None, product: str | None = None, include_internal: bool = False,
                        min_score: float | None = None) -> list[list[Suggestion]]:
        """``suggest`` for texts the caller has embedded already (gap mining reuses its vectors)."""
        return self._rank_many([self.understand(t) for t in texts], vectors, k, locale, product,
                               include_internal, min_score)

    def _rank_many(self, queries: list[Query | None], vectors: np.ndarray, k: int | None, locale: str | None,
                   product: str | None, include_internal: bool, min_score: float | None) -> list[list[Suggestion]]:
        """Row i of ``vectors`` is the embedding of ``queries[i]``; a None query gets no suggestion."""
        vectors = np.asarray(vectors, dtype=np.float32)
        threshold = self.settings.min_score if min_score is None else min_score
        return [[] if q is None else self._rank(q, vectors[row:row + 1], k or self.settings.default_k, threshold,
                                                locale, product, include_internal)
                for row, q in enumerate(queries)]

    def features(self, query: Query, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n_articles, len(FEATURES)) features of every article, and each chunk's cosine (grouped order)."""
        vector = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        if self._vectors is not None:
            chunk_cos = self._vectors @ vector[0]
        else:
            scores, rows = self.index.search(vector, min(ANN_DEPTH, self.index.ntotal))
            found = rows[0] >= 0
            chunk_cos = np.full(self.index.ntotal, scores[0][found].min() if found.any() else 0.0, np.float32)
            chunk_cos[self._grouped_of_row[rows[0][found]]] = scores[0][found]
        best = np.full(len(self.articles), -1.0, np.float32)
        best[self._has_chunks] = np.maximum.reduceat(chunk_cos, self._starts[self._has_chunks])
        title = np.full(len(self.articles), -1.0, np.float32)
        title[self._has_chunks] = chunk_cos[self._starts[self._has_chunks]]  # an article's first chunk: its title alone
        coverage = self.lexical.coverage(query)
        columns = {"chunk_cos": best, "article_cos": self._centroids @ vector[0], "title_cos": title,
                   "title_cov": coverage["title"], "text_cov": coverage["text"]}
        return np.column_stack([columns[f] for f in FEATURES]).astype(np.float32), chunk_cos

    def _rank(self, query: Query, vector: np.ndarray, k: int, threshold: float, locale: str | None,
              product: str | None, include_internal: bool) -> list[Suggestion]:
        features, chunk_cos = self.features(query, vector)
        score = self.calibration.probability(features)
        allowed = self._has_chunks & (score >= threshold)
        if not include_internal:
            allowed &= self._public
        if locale:
            allowed &= self._locale == locale
        if product:
            allowed &= self._product == product
        candidates = np.flatnonzero(allowed)
        if len(candidates) > k:
            candidates = candidates[np.argpartition(-score[candidates], k - 1)[:k]]
        candidates = sorted(candidates.tolist(), key=lambda p: (-score[p], p))
        results = []
        for position in candidates:
            start = int(self._starts[position])
            row = start + int(np.argmax(chunk_cos[start:start + self._count(position)]))
            article = self.articles[position]
            results.append(Suggestion(
                article.id, article.title, article.url, self._chunk_heading[row] or None, self._chunk_anchor[row],
                self._chunk_snippet[row], round(float(score[position]), 4), round(float(chunk_cos[row]), 4),
            ))
        return results

    def _count(self, position: int) -> int:
        end = self._starts[position + 1] if position + 1 < len(self._starts) else len(self._chunk_article)
        return int(end - self._starts[position])
