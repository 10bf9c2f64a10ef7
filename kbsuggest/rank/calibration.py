"""Calibrated scores: the probability that an article answers the query, from KB-independent features.

A logistic model over:
- ``chunk_cos``: cosine between the query and the article's best chunk;
- ``article_cos``: cosine with the article's centroid (mean of its chunk vectors): whole-article
  similarity separates unanswerable queries better than a single chunk does;
- ``title_cos``: cosine with the article's title alone (its first chunk): short, half-typed
  queries are phrased like titles;
- ``title_cov`` / ``text_cov``: IDF-weighted share of the query's terms in the title and headings /
  anywhere in the article (``lexical.py``).
The same probability ranks (a learned fusion of dense and lexical evidence) and thresholds. The model is
one weight vector, an intercept and the recommended ``threshold`` (the one owner of the default
``min_score``), applied here with numpy: serving never imports sklearn. Each index snapshot carries its
own ``calibration.json`` (``kbsuggest/index/format.py``); ``calibration.json`` beside this module is the
packaged default (fitted by ``benchmarks/fit_calibration.py``; the file says on what).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FEATURES = ("chunk_cos", "article_cos", "title_cos", "title_cov", "text_cov")
DEFAULT_FILE = Path(__file__).with_name("calibration.json")


@dataclass(frozen=True)
class Calibration:
    coef: np.ndarray  # one weight per FEATURES entry
    intercept: float
    threshold: float  # recommended min_score

    @classmethod
    def from_dict(cls, data: dict, source: str = "calibration") -> "Calibration":
        try:
            if tuple(data["features"]) != FEATURES:
                raise ValueError(f"features {data['features']}, expected {list(FEATURES)}")
            coef = np.asarray(data["coef"], dtype=np.float32)
            if coef.shape != (len(FEATURES),) or not np.isfinite(coef).all():
                raise ValueError("coef must be one finite number per feature")
            calibration = cls(coef, float(data["intercept"]), float(data["threshold"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{source} is not a valid calibration: {exc}") from None
        if not 0.0 <= calibration.threshold <= 1.0:
            raise ValueError(f"{source}: threshold {calibration.threshold} is not a probability")
        return calibration

    @classmethod
    def load(cls, path: Path = DEFAULT_FILE) -> "Calibration":
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")), Path(path).name)

    @classmethod
    def default(cls) -> "Calibration":
        return _DEFAULT

    def probability(self, features: np.ndarray) -> np.ndarray:
        """``features``: (n, len(FEATURES)) -> (n,) probabilities in [0, 1], monotone in every feature
        whose weight is positive."""
        logits = np.clip(features @ self.coef + self.intercept, -50.0, 50.0)  # no overflow warning
        return 1.0 / (1.0 + np.exp(-logits))


def packaged_data() -> dict:
    """The packaged default's JSON, as written into a snapshot that has no calibration of its own."""
    return json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))


_DEFAULT = Calibration.load()
