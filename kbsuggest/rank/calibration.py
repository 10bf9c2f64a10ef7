"""Calibrated scores: the probability that an article answers the query, from KB-independent features.

A logistic model over:
- ``chunk_cos``: cosine between the query and the article's best chunk;
- ``article_cos``: cosine with the article's centroid (mean of its chunk vectors): whole-article
  similarity separates unanswerable queries better than a single chunk does;
- ``title_cos``: cosine with the article's title alone (its first chunk): short, half-typed
  queries are phrased like titles;
- ``title_cov`` / ``text_cov``: IDF-weighted share of the query's terms in the title and headings /
  anywhere in the article (``lexical.py``);
- ``text_bm25``: the article's BM25 over its text relative to the best article's for the same query (in
  [0, 1]): which article says the query's words most often for its length, as a lexical engine ranks. The
  shares above say how much of the query an article has; this one orders the articles that have it.
The same probability ranks (a learned fusion of dense and lexical evidence) and thresholds. The model is
one weight vector, an intercept and one threshold per surface (``MODES``: ``form``, ``chat``; the one
owner of the default ``min_score``), applied here with numpy: serving never imports sklearn.

``calibration.json`` beside this module is the packaged default: the feature weights, fitted across
domains by ``benchmarks/fit_calibration.py --domains`` (the file says on what). Each index snapshot carries its
own ``calibration.json`` (``kbsuggest/index/format.py``): those weights refitted for that KB (pulled
towards the packaged ones), the fused score's Platt scaling and its two thresholds, fitted when the KB
is indexed from pseudo-queries of its own articles (``learning/coldstart.py``), or from its labelled
history (``kbsuggest calibrate``, ``learning/warm.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FEATURES = ("chunk_cos", "article_cos", "title_cos", "title_cov", "text_cov", "text_bm25")
MODES = ("form", "chat")  # the surfaces, each with its threshold: see Calibration.thresholds
# How each surface applies its threshold. Form: to the best score only, then the whole top k is shown (under a
# ticket field, the 2nd and 3rd plausible articles cost the customer nothing, and a cut per card hid the right
# one behind a shown first). Chat: to every card (a wrong card costs trust).
GATED = {"form": True, "chat": False}
DEFAULT_FILE = Path(__file__).with_name("calibration.json")


@dataclass(frozen=True)
class Calibration:
    coef: np.ndarray  # one weight per FEATURES entry
    intercept: float
    threshold: float  # recommended min_score of the form (the default mode)
    chat_threshold: float | None = None  # recommended min_score of the chat widget; None: ``threshold``

    def threshold_for(self, mode: str) -> float:
        if mode == "chat" and self.chat_threshold is not None:
            return self.chat_threshold
        return self.threshold

    @property
    def thresholds(self) -> dict[str, float]:
        return {mode: self.threshold_for(mode) for mode in MODES}

    def rescaled(self, slope: float, offset: float, thresholds: dict[str, float]) -> "Calibration":
        """The same ranking (``slope`` > 0) with the logit mapped to ``slope * logit + offset``."""
        return Calibration((self.coef * slope).astype(np.float32), float(self.intercept * slope + offset),
                           float(thresholds["form"]), float(thresholds["chat"]))

    def logit(self, features: np.ndarray) -> np.ndarray:
        return features @ self.coef + self.intercept

    def to_dict(self, **extra) -> dict:
        return {"features": list(FEATURES), "coef": [round(float(c), 6) for c in self.coef],
                "intercept": round(self.intercept, 6), "threshold": round(self.threshold, 4),
                "thresholds": {m: round(t, 4) for m, t in self.thresholds.items()}, **extra}

    @classmethod
    def from_dict(cls, data: dict, source: str = "calibration") -> "Calibration":
        try:
            names, given = list(data["features"]), np.asarray(data["coef"], dtype=np.float32)
            if unknown := sorted(set(names) - set(FEATURES)):
                raise ValueError(f"unknown features {unknown}; valid: {list(FEATURES)}")
            if repeated := sorted({f for f in names if names.count(f) > 1}):
                raise ValueError(f"features {repeated} are listed more than once")
            if given.shape != (len(names),) or not np.isfinite(given).all():
                raise ValueError("coef must be one finite number per feature")
            # a calibration written before a feature existed gives it no weight: it ranks as it did
            coef = np.zeros(len(FEATURES), np.float32)
            coef[[FEATURES.index(f) for f in names]] = given
            thresholds = data.get("thresholds") or {}
            if set(thresholds) - set(MODES):
                raise ValueError(f"thresholds of unknown modes {sorted(set(thresholds) - set(MODES))}; valid: {list(MODES)}")
            form = float(thresholds.get("form", data["threshold"]))
            chat = float(thresholds["chat"]) if "chat" in thresholds else None
            calibration = cls(coef, float(data["intercept"]), form, chat)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{source} is not a valid calibration: {exc}") from None
        for mode, threshold in calibration.thresholds.items():
            if not 0.0 <= threshold <= 1.0:
                raise ValueError(f"{source}: {mode} threshold {threshold} is not a probability")
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
        logits = np.clip(self.logit(features), -50.0, 50.0)  # no overflow warning
        return 1.0 / (1.0 + np.exp(-logits))


def packaged_data() -> dict:
    """The packaged default's JSON, as written into a snapshot that has no calibration of its own."""
    return json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))


_DEFAULT = Calibration.load()
