"""Peers kbsuggest is measured against, beside evaluation/baselines.py's BM25 and dense rankers:
tantivy configured for type-ahead, and txtai's hybrid (dense + BM25) search. Each ranks whole
articles with no threshold (they have none), through the ``rank(texts, k)`` protocol of
evaluation/replay.py, so they replay exactly the prefixes kbsuggest does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from evaluation.baselines import whole_articles
from evaluation.replay import Ranking
from kbsuggest.errors import MissingDependencyError

WORD = re.compile(r"[^\W_]+", re.UNICODE)
LANGUAGES = {"en": "english", "de": "german", "fr": "french"}  # tantivy's stop-word and stemmer names
TITLE_BOOST = 1.0  # measured, see TantivyRanker
FUZZY_FROM = 5  # words from this many characters match within 1 edit
FUZZY_SCORE = 1.0  # a typo-tolerant match scores like one weak BM25 term (tantivy scores it as a constant)
MIN_PREFIX = 2  # a shorter last word is not expanded
EXPANSIONS = 30  # completions of the last word, most frequent first (Lucene's prefix rewrite keeps 50)


def article_fields(snapshot_dir: Path) -> list[tuple[str, str, str]]:
    """(id, title, body) of each public article: ``whole_articles`` puts the title on the first line."""
    return [(article, *(text.split("\n", 1) + [""])[:2]) for article, text in whole_articles(snapshot_dir)]


def _tantivy():
    try:
        import tantivy
    except ImportError as exc:
        raise MissingDependencyError("the tantivy peer needs tantivy: pip install 'kbsuggest[peers]'") from exc
    return tantivy


class TantivyRanker:
    """tantivy for type-ahead: BM25 over a title and a body field, OR of the query's words.

    - complete words: term queries on stemmed fields, plus, from ``FUZZY_FROM`` characters, a fuzzy
      (1 edit) fallback; tantivy scores automaton queries (fuzzy, prefix) with a constant, so the
      exact term and its fuzzy fallback sit in a disjunction-max: a typo scores ``FUZZY_SCORE``, a
      correct word its BM25 weight, never both;
    - the last word, when the text does not end in a space or punctuation: a prefix. It is expanded
      into the index's ``EXPANSIONS`` most frequent completions, each a BM25 term query (in a
      disjunction-max: the best completion counts), plus a fuzzy prefix fallback from 5 characters.
      A constant-score prefix query alone (``fuzzy_term_query(prefix=True)``) would ignore how rare
      the completed word is; the expansion is how Lucene and Elasticsearch score a prefix too.
    Stop words are removed and words folded to ASCII; stemming in the language of the KB.

    Chosen on 300 queries each of stackfaq, integreat-muenchen-en/-de, integreat-lkaugsburg-en and
    the sample KB (hit@3 at 30/50/100% typed), so it is if anything an optimistic bar: the title
    boost ×1 beat ×1.5, ×2, ×3 and ×5 on every one (a short field's BM25 already weighs a title
    match; e.g. integreat-muenchen-en 0.160/0.393/0.857 at ×1, 0.127/0.327/0.727 at ×3), expansion
    to 10 or 60 completions and a fuzzy score of 0.3 or 3 changed hit@3 by 0.02 at most, stemming
    helped about as often as not. The literal configuration (constant-score fuzzy prefix for the
    last word, constant-score fuzzy terms from 5 characters) was far weaker: stackfaq
    0.250/0.430/0.640 against 0.340/0.630/0.887.
    """

    name = "tantivy"

    def __init__(self, documents: Sequence[tuple[str, str, str]], language: str = "en") -> None:
        tantivy = _tantivy()
        self._t = tantivy
        lang = LANGUAGES.get(language, "english")
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("id", stored=True, tokenizer_name="raw")
        for field in ("title", "body"):
            builder.add_text_field(field, tokenizer_name="plain")  # unstemmed: prefixes of what is typed
            builder.add_text_field(f"{field}_stem", tokenizer_name="stem")
        self.schema = builder.build()
        self.index = tantivy.Index(self.schema)

        def analyzer(*filters):
            built = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            for f in (tantivy.Filter.lowercase(), tantivy.Filter.ascii_fold(), tantivy.Filter.stopword(lang), *filters):
                built = built.filter(f)
            return built.build()

        self.plain = analyzer()
        self.stem = analyzer(tantivy.Filter.stemmer(lang))
        self.index.register_tokenizer("plain", self.plain)
        self.index.register_tokenizer("stem", self.stem)
        writer = self.index.writer(heap_size=50_000_000, num_threads=1)
        for article, title, body in documents:
            writer.add_document(tantivy.Document(id=article, title=title, body=body, title_stem=title, body_stem=body))
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()

    def _fields(self, suffix: str, make) -> object:
        """title (times TITLE_BOOST) OR body, each from ``make(field)``."""
        Q, Occur = self._t.Query, self._t.Occur
        return Q.boolean_query([(Occur.Should, Q.boost_query(make(f"title{suffix}"), TITLE_BOOST)),
                                (Occur.Should, make(f"body{suffix}"))])

    def _complete(self, word: str):
        Q = self._t.Query
        stems = self.stem.analyze(word)
        if not stems:  # a stop word
            return None
        exact = self._fields("_stem", lambda f: Q.term_query(self.schema, f, stems[0]))
        if len(word) < FUZZY_FROM:
            return exact
        fuzzy = self._fields("", lambda f: Q.fuzzy_term_query(self.schema, f, self.plain.analyze(word)[0], 1))
        return Q.disjunction_max_query([exact, Q.const_score_query(fuzzy, FUZZY_SCORE)])

    def _prefix(self, word: str):
        Q = self._t.Query
        folded = self.plain.analyze(word)
        if not folded or len(folded[0]) < MIN_PREFIX:
            return None
        counts: dict[str, int] = {}
        for field in ("title", "body"):
            for term, df in self.searcher.terms_with_prefix(field, folded[0]):
                counts[term] = counts.get(term, 0) + df
        best = sorted(counts, key=lambda t: (-counts[t], t))[:EXPANSIONS]
        options = [self._fields("", lambda f, t=t: Q.term_query(self.schema, f, t)) for t in best]
        if len(folded[0]) >= FUZZY_FROM:
            fuzzy = self._fields("", lambda f: Q.fuzzy_term_query(self.schema, f, folded[0], 1, prefix=True))
            options.append(Q.const_score_query(fuzzy, FUZZY_SCORE))
        return Q.disjunction_max_query(options) if options else None

    def query(self, text: str):
        """The tantivy query for a half-typed text, or None when it has no searchable word."""
        words = list(WORD.finditer(text))
        partial = bool(words) and words[-1].end() == len(text)
        clauses = [self._prefix(m.group()) if partial and i == len(words) - 1 else self._complete(m.group())
                   for i, m in enumerate(words)]
        clauses = [(self._t.Occur.Should, c) for c in clauses if c is not None]
        return self._t.Query.boolean_query(clauses) if clauses else None

    def rank(self, texts: Sequence[str], k: int) -> list[Ranking]:
        out: list[Ranking] = []
        for text in texts:
            query = self.query(text)
            hits = self.searcher.search(query, k).hits if query is not None else []
            out.append([(self.searcher.doc(address)["id"][0], round(float(score), 4)) for score, address in hits])
        return out


class TxtaiRanker:
    """txtai ``Embeddings`` with ``hybrid=True`` (its BM25 index fused with dense scores, default
    weights) and ``content=True``, vectors from our embedder (txtai's ``external`` method): the
    same model as kbsuggest, so the comparison is about retrieval, not about the encoder."""

    name = "txtai-hybrid"

    def __init__(self, documents: Sequence[tuple[str, str]], embedder) -> None:
        try:
            from txtai import Embeddings
        except ImportError as exc:
            raise MissingDependencyError("the txtai peer needs txtai: pip install 'kbsuggest[peers]'") from exc
        def transform(texts) -> np.ndarray:  # a plain function: txtai calls anything else to get one
            return embedder.encode([str(t) for t in texts])

        self.embeddings = Embeddings({"method": "external", "transform": transform, "hybrid": True, "content": True})
        self.embeddings.index([(article, text, None) for article, text in documents])

    def rank(self, texts: Sequence[str], k: int) -> list[Ranking]:
        results = self.embeddings.batchsearch([" ".join(t.split()) for t in texts], k)
        return [[(r["id"], round(float(r["score"]), 4)) for r in row] for row in results]
