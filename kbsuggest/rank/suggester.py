"""Suggester: text -> the top-k articles of one KB snapshot. The core the API, the CLI and evaluation call.

Hybrid ranking for half-typed titles: the query is understood first (``query.py``: the last word
completed, typos repaired, stop-word-only queries get nothing), then candidate articles get dense
features (best chunk, title alone, whole-article cosine) and lexical ones (``lexical.py``), fused by
the snapshot's calibration (``calibration.py``) into ``score``, the probability that the article answers
the query. What is shown follows the surface (``mode``, ``calibration.GATED``): a form shows the top k when the
best scores at least the threshold, a chat only the cards that do.

Candidates: with a flat index (up to a few thousand articles) every article is scored exactly. With an
HNSW index (the build's choice for large KBs) the candidates are the articles of the ANN's best chunks,
the best articles by lexical coverage, and — under a selective filter — the best allowed articles by
whole-article cosine, so the cost of a query does not grow with the KB.

Public callers never meet internal articles: they are filtered out, and the words the query is
completed and repaired to come from a vocabulary of public articles only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from kbsuggest.domain import Suggestion
from kbsuggest.embed import Embedder
from kbsuggest.index.format import centroids_of
from kbsuggest.index.snapshot import Snapshot
from kbsuggest.rank.calibration import FEATURES, GATED, MODES, Calibration
from kbsuggest.rank.highlight import Highlighter
from kbsuggest.rank.language import kb_stop_words, stems
from kbsuggest.rank.lexical import LexicalIndex
from kbsuggest.rank.locales import Locales
from kbsuggest.rank.query import Query
from kbsuggest.rank.tokens import tokens

_SPACES = re.compile(r"\s+")
ANN_DEPTH = 64  # chunks asked of HNSW (= its efSearch: a deeper k would widen the graph search itself)
LEXICAL_CANDIDATES = 64  # best articles by lexical evidence added as candidates (HNSW KBs)
LEXICAL = {"title_cov": "title", "text_cov": "text", "text_bm25": "bm25"}  # feature -> LexicalIndex.coverage key
SELECTIVE = 0.25  # a filter keeping at most this share of articles adds the best allowed ones by cosine


@dataclass(frozen=True)
class Policy:
    """How a KB answers, resolved once per load (``kbsuggest/kbs`` decides the threshold's source)."""

    min_score: float  # of the form (the default mode)
    default_k: int = 3
    max_k: int = 10
    min_query_chars: int = 3
    snippet_chars: int = 200
    default_locale: str = "en"  # the end of the locale fallback (locales.py)
    chat_min_score: float | None = None  # of the chat widget; None: ``min_score``

    def threshold(self, mode: str = "form") -> float:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; valid: {', '.join(MODES)}")
        return self.chat_min_score if mode == "chat" and self.chat_min_score is not None else self.min_score


def normalize_query(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def make_snippet(body: str, limit: int) -> str:
    if len(body) <= limit:
        return body
    cut = body[:limit].rsplit(" ", 1)[0].rstrip(" ,.;:")
    return cut + "…"


class Suggester:
    def __init__(self, snapshot: Snapshot, embedder: Embedder, policy: Policy,
                 calibration: Calibration | None = None,
                 embed_query: Callable[[str], np.ndarray] | None = None) -> None:
        """``embed_query``: one text -> (1, dim); by default the embedder's unpadded single-text path (the
        registry passes one cached across KBs)."""
        self.snapshot = snapshot
        self.embedder = embedder
        self.policy = policy
        self.calibration = calibration or (
            Calibration.from_dict(snapshot.calibration) if snapshot.calibration else Calibration.default())
        s = snapshot
        n = s.size
        self._exhaustive = s.vectors is not None
        self._ends = s.starts + s.counts
        if s.centroid_index is not None:
            self._centroids = s.centroid_index.reconstruct_n(0, n)  # stored at build time
        else:
            self._centroids = np.zeros((n, s.manifest.dim), np.float32)
            for block in range(0, n, 4096):  # bounded memory for HNSW KBs, whose vectors are not in memory
                positions = np.arange(block, min(n, block + 4096))
                rows = np.arange(s.starts[positions[0]], self._ends[positions[-1]])
                self._centroids[positions] = centroids_of(s.chunk_vectors(rows), s.starts[positions] - rows[0])
        self._public = np.array([a.audience == "public" for a in s.articles], dtype=bool)
        self._locale = np.array([a.locale for a in s.articles], dtype=object)
        self._product = np.array([a.product for a in s.articles], dtype=object)
        self._locales = {audience: Locales({a.locale for a in s.articles if audience or a.audience == "public"},
                                           policy.default_locale) for audience in (False, True)}
        self._snippets = [make_snippet(body, policy.snippet_chars) for body in s.bodies]
        titles, texts = self._tokens()
        locales = self._locale.tolist()
        stop_words, stem_of = kb_stop_words(locales), stems(zip(locales, texts))
        self.lexical = LexicalIndex(titles, texts, stem_of, stop_words)
        self.public_lexical = self.lexical if self._public.all() else LexicalIndex(
            *([words if self._public[i] else [] for i, words in enumerate(field)] for field in (titles, texts)),
            stem_of, stop_words)
        self._embed_query = embed_query or getattr(embedder, "encode_one", None) or (lambda t: embedder.encode([t]))
        self._memory = (s.memory_bytes() + self._centroids.nbytes + sum(map(len, self._snippets))
                        + self.lexical.memory_bytes()
                        + (self.public_lexical.memory_bytes() if self.public_lexical is not self.lexical else 0))

    def _tokens(self) -> tuple[list[list[str]], list[list[str]]]:
        """Per article, the words of its title and headings, and of all its text: tokenized once for both
        lexical indexes (tokenizing was most of a big KB's load time)."""
        s = self.snapshot
        titles = [tokens(a.title) for a in s.articles]
        texts = [list(words) for words in titles]
        for position, heading, body in zip(s.chunk_article.tolist(), s.headings, s.bodies):
            if heading:
                words = tokens(heading)
                titles[position].extend(words)
                texts[position].extend(words)
            texts[position].extend(tokens(body))
        return titles, texts

    def memory_bytes(self) -> int:
        """Approximate memory of this loaded KB: its snapshot and what ranking derived from it."""
        return self._memory

    @property
    def articles(self):
        return self.snapshot.articles

    @property
    def manifest(self):
        return self.snapshot.manifest

    def warm_up(self) -> None:
        """One query through every stage before the first customer's: the typo repair's first use
        imports rapidfuzz and onnxruntime's first run allocates its buffers (tens of ms, once)."""
        self.suggest("pasword resett for my acount lo", min_score=0.0)

    def locale_for(self, requested: str | None, include_internal: bool = False) -> str | None:
        """The locale a caller asking for ``requested`` is answered in (``de-DE`` -> ``de`` -> the KB's default)."""
        return self._locales[include_internal].resolve(requested)

    def understand(self, text: str, include_internal: bool = False) -> Query | None:
        """The query to search for, or None when there is nothing to search for yet."""
        if len(normalize_query(text)) < self.policy.min_query_chars or self.snapshot.size == 0:
            return None
        lexical = self.lexical if include_internal else self.public_lexical
        query = lexical.vocabulary.understand(_SPACES.sub(" ", text).lstrip())
        return None if query.empty else query

    def suggest(self, text: str, k: int | None = None, *, locale: str | None = None, product: str | None = None,
                include_internal: bool = False, min_score: float | None = None,
                mode: str = "form") -> list[Suggestion]:
        """The best ``k`` articles for ``text``, best first; [] for a query under the minimum length.
        Shown, against ``min_score`` (by default the policy's threshold of ``mode``): in form mode the top ``k``
        when the best reaches it, in chat mode those that reach it."""
        cut = self._cut(mode, min_score)
        query = self.understand(text, include_internal)
        if query is None:
            return []
        return self._rank(query, self._embed_query(query.text.strip()), k, *cut, locale, product,
                          include_internal, Highlighter(normalize_query(text), query))

    def _cut(self, mode: str, min_score: float | None) -> tuple[float, bool]:
        """(threshold, gated?) of ``mode``: ``min_score`` replaces the policy's threshold, not how it applies."""
        threshold = self.policy.threshold(mode)  # validates ``mode``
        return (threshold if min_score is None else min_score), GATED[mode]

    def suggest_many(self, texts: list[str], k: int | None = None, **options) -> list[list[Suggestion]]:
        """``suggest`` for many texts with one batched embedding call (offline replay, evaluation)."""
        queries = [self.understand(t, options.get("include_internal", False)) for t in texts]
        todo = [i for i, q in enumerate(queries) if q is not None]
        vectors = np.zeros((len(texts), self.embedder.dim), np.float32)
        if todo:
            vectors[todo] = self.embedder.encode([queries[i].text.strip() for i in todo])
        return self._rank_many(queries, vectors, k, **options)

    def suggest_vectors(self, texts: list[str], vectors: np.ndarray, k: int | None = None,
                        **options) -> list[list[Suggestion]]:
        """``suggest`` for texts the caller has embedded already (gap mining reuses its vectors)."""
        queries = [self.understand(t, options.get("include_internal", False)) for t in texts]
        return self._rank_many(queries, vectors, k, **options)

    def _rank_many(self, queries: list[Query | None], vectors: np.ndarray, k: int | None, *,
                   locale: str | None = None, product: str | None = None, include_internal: bool = False,
                   min_score: float | None = None, mode: str = "form") -> list[list[Suggestion]]:
        vectors = np.asarray(vectors, dtype=np.float32)
        cut = self._cut(mode, min_score)
        return [[] if q is None else self._rank(q, vectors[row:row + 1], k, *cut, locale, product, include_internal)
                for row, q in enumerate(queries)]

    def _allowed(self, locale: str | None, product: str | None, include_internal: bool) -> np.ndarray:
        allowed = np.ones(self.snapshot.size, dtype=bool) if include_internal else self._public.copy()
        if locale:
            allowed &= self._locale == locale
        if product:
            allowed &= self._product == product
        return allowed

    def _candidates(self, query: Query, vector: np.ndarray, allowed: np.ndarray, lexical: LexicalIndex,
                    coverage: dict[str, np.ndarray]) -> np.ndarray:
        """Positions of the articles worth scoring (every allowed one for a flat index)."""
        if self._exhaustive:
            return np.flatnonzero(allowed)
        s = self.snapshot
        _, rows = s.index.search(vector, min(ANN_DEPTH, s.manifest.chunk_count))
        found = [s.chunk_article[rows[0][rows[0] >= 0]]]
        # a KB's own fit may weigh a coverage below 0: candidates are still the articles with the most evidence
        lexical_score = sum(max(float(self.calibration.coef[FEATURES.index(feature)]), 0.0) * coverage[key]
                            for feature, key in LEXICAL.items())
        lexical_score = np.where(allowed, lexical_score, -1.0)
        found.append(np.argpartition(-lexical_score, min(LEXICAL_CANDIDATES, s.size) - 1)[:LEXICAL_CANDIDATES])
        if s.centroid_index is not None:
            # The best articles by whole-article cosine: without them, hit@3 on StackFAQ among 50,000
            # distractors was 0.07 below the exhaustive ranking at 30 % typed (the ANN's 64 chunks cover
            # ~47 articles, and lexical scores tie across hundreds of articles); with them, 0.02 below
            # (benchmarks/tenants.py --quick, 5,000 distractors).
            _, best = s.centroid_index.search(vector, min(ANN_DEPTH, s.size))
            found.append(best[0][best[0] >= 0])
        kept = np.flatnonzero(allowed)
        if len(kept) <= SELECTIVE * s.size:
            cosine = self._centroids[kept] @ vector[0]
            found.append(kept[np.argpartition(-cosine, min(ANN_DEPTH, len(kept)) - 1)[:ANN_DEPTH]] if len(kept) else kept)
        candidates = np.unique(np.concatenate(found))
        return candidates[allowed[candidates]]

    def features(self, query: Query, vector: np.ndarray, positions: np.ndarray | None = None,
                 coverage: dict[str, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(len(positions), len(FEATURES)) features of the articles at ``positions`` (default: all), and the
        cosine of each of their chunks (concatenated in position order)."""
        s = self.snapshot
        vector = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        positions = np.arange(s.size) if positions is None else np.asarray(positions, dtype=np.int64)
        if coverage is None:
            coverage = self.lexical.coverage(query)
        counts = s.counts[positions]
        local_starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        rows = np.arange(int(counts.sum())) + np.repeat(s.starts[positions] - local_starts, counts)
        if self._exhaustive:  # one product over every chunk costs less than gathering the rows' vectors
            chunk_cos = (s.vectors @ vector[0])[rows]
        else:
            chunk_cos = s.chunk_vectors(rows) @ vector[0]
        best = np.maximum.reduceat(chunk_cos, local_starts) if len(rows) else np.zeros(0, np.float32)
        columns = {"chunk_cos": best, "article_cos": self._centroids[positions] @ vector[0],
                   "title_cos": chunk_cos[local_starts] if len(rows) else best,  # the title chunk comes first
                   **{feature: coverage[key][positions] for feature, key in LEXICAL.items()}}
        return np.column_stack([columns[f] for f in FEATURES]).astype(np.float32), chunk_cos

    def candidate_features(self, query: Query, vector: np.ndarray, locale: str | None = None,
                           product: str | None = None, include_internal: bool = False):
        """(positions, features, chunk cosines) of the articles worth scoring for ``query`` (what ``_rank``
        scores; the calibration fits in ``learning/`` use the same)."""
        lexical = self.lexical if include_internal else self.public_lexical
        allowed = self._allowed(locale, product, include_internal)
        coverage = lexical.coverage(query, allowed)
        positions = self._candidates(query, np.asarray(vector, np.float32).reshape(1, -1), allowed, lexical, coverage)
        if len(positions) == 0:
            return positions, np.zeros((0, len(FEATURES)), np.float32), np.zeros(0, np.float32)
        return (positions, *self.features(query, vector, positions, coverage))

    def _rank(self, query: Query, vector: np.ndarray, k: int | None, threshold: float, gated: bool,
              locale: str | None, product: str | None, include_internal: bool,
              marks: Highlighter | None = None) -> list[Suggestion]:
        k = k or self.policy.default_k
        positions, features, chunk_cos = self.candidate_features(query, vector, locale, product, include_internal)
        if len(positions) == 0:
            return []
        score = self.calibration.probability(features)
        shown = score >= threshold  # never a NaN score, which would otherwise hide the whole gated list
        keep = np.flatnonzero(~np.isnan(score) if gated and shown.any() else shown)
        if len(keep) > k:
            keep = keep[np.argpartition(-score[keep], k - 1)[:k]]
        keep = sorted(keep.tolist(), key=lambda i: (-score[i], positions[i]))
        offsets = np.concatenate([[0], np.cumsum(self.snapshot.counts[positions])])
        return [self._suggestion(int(positions[i]), chunk_cos[offsets[i]:offsets[i + 1]], float(score[i]), marks)
                for i in keep]

    def _suggestion(self, position: int, chunk_cos: np.ndarray, score: float,
                    marks: Highlighter | None = None) -> Suggestion:
        """``marks``: the query's match spans (only ``suggest``, the API's path, asks for them)."""
        row = int(self.snapshot.starts[position]) + int(np.argmax(chunk_cos))
        article, s = self.snapshot.articles[position], self.snapshot
        snippet = self._snippets[row]
        return Suggestion(article.id, article.title, article.url, s.headings[row] or None, s.anchors[row],
                          snippet, round(score, 4), round(float(chunk_cos.max()), 4),
                          *((marks.spans(article.title), marks.spans(snippet)) if marks else ()))
