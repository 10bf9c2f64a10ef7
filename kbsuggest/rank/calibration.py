"""Calibrated scores: the probability that an article answers the query, from KB-independent features.

A logistic model over:
- ``chunk_cos``: cosine between the query and the article's best chunk;
- ``article_cos``: cosine with the article's centroid (mean of its chunk vectors): whole-article
  similarity separates unanswerable queries better than a single chunk does;
- ``title_cos``: cosine with the article's title alone (its first chunk): short, half-typed
  queries are phrased like titles;
- ``title_cov`` / ``text_cov``: IDF-weighted share of the query's terms in the title and headings /
  anywhere in the article (``kbsuggest/lexical.py``).
The same probability ranks (a learned fusion of dense and lexical evidence) and thresholds. It is
fitted offline by ``benchmarks/fit_calibration.py`` (on evaluation data: see ``calibration.json``
for what) in two steps: the feature weights by a listwise objective (which article answers, among
each prefix's candidates), then Platt scaling of that fused score into a probability. The product
is one weight vector and an intercept, applied here with numpy: serving never imports sklearn.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FEATURES = ("chunk_cos", "article_cos", "title_cos", "title_cov", "text_cov")
CALIBRATION_FILE = Path(__file__).with_name("calibration.json")


@dataclass(frozen=True)
class Calibration:
    coef: np.ndarray  # one weight per FEATURES entry
    intercept: float
    threshold: float  # recommended min_score: see calibration.json "threshold_note"

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> "Calibration":
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"{path} has features {data['features']}, expected {list(FEATURES)}")
        return cls(np.asarray(data["coef"], dtype=np.float32), float(data["intercept"]), float(data["threshold"]))

    def probability(self, features: np.ndarray) -> np.ndarray:
        """``features``: (n, len(FEATURES)) -> (n,) probabilities in [0, 1], monotone in every feature
        whose weight is positive."""
        return 1.0 / (1.0 + np.exp(-(features @ self.coef + self.intercept)))
