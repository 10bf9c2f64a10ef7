"""Cold-start calibration: fit a KB's weights, score scale and thresholds when it is indexed, with no labels.

Answerable examples are the KB's pseudo-queries (``pseudo.py``: titles with a word dropped, headings,
question-like sentences, each typed at 30/50/70/100 %), answered by their own article; the other
articles ranked for them are its wrong answers. Unanswerable examples are the packaged out-of-domain
texts (``offtopic.txt``), typed keystroke by keystroke as a debounced form sends them. Both go through
the Suggester's own candidates and features, computed once; ``fit.py`` refits the weights (pulled towards
the packaged ones), then the scale, composed with the packaged map from pseudo-queries to real text
(``packaged_real_text_scale``), and the thresholds. Seeded and numpy-only: the same KB and model give
the same calibration.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kbsuggest.index.versions import write_atomically
from kbsuggest.rank.calibration import Calibration, packaged_data
from kbsuggest.rank.suggester import Suggester
from learning import fit, thresholds
from learning.pseudo import pseudo_queries, typed_prefixes

OFFTOPIC = Path(__file__).with_name("offtopic.txt")
SEED = 0
_vectors: dict[tuple[str, str], np.ndarray] = {}  # off-topic text -> vector, per model (the same for every KB)


def packaged_real_text_scale() -> fit.Scale:
    """``pseudo_to_real`` of the packaged calibration (benchmarks/fit_calibration.py --domains fits it on labelled
    domains): how a logit scaled on pseudo-queries maps to real text. Identity when absent."""
    data = packaged_data().get("pseudo_to_real") or {}
    slope, offset = float(data.get("slope", 1.0)), float(data.get("offset", 0.0))
    if not (np.isfinite(slope) and np.isfinite(offset) and slope > 0):
        raise ValueError(f"calibration.json: pseudo_to_real {data} must have a finite slope > 0 and a finite offset")
    return slope, offset


def offtopic_texts() -> list[str]:
    lines = [line.strip() for line in OFFTOPIC.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def form_prefixes(text: str, every: int = 6, start: int = 3) -> list[str]:
    """The prefixes a debounced form sends: each completed word, every ``every`` characters inside a long
    word, and the whole text (evaluation/replay.py's rule, without its fixed shares)."""
    out, last = [], 0
    for p in range(min(start, len(text)), len(text) + 1):
        if p == len(text) or text[p].isspace() or p - last >= every:
            out.append(text[:p])
            last = p
    return out


def _encode(suggester: Suggester, texts: list[str]) -> np.ndarray:
    if not texts:
        return np.zeros((0, suggester.embedder.dim), np.float32)
    return np.asarray(suggester.embedder.encode(texts), np.float32)


def _encode_offtopic(suggester: Suggester, texts: list[str], cache_dir: Path | None = None) -> np.ndarray:
    """Vectors of the packaged off-topic texts: the same for every KB of a model, so kept per process and,
    with ``cache_dir``, on disk (a fresh ``kbsuggest index`` process would otherwise embed ~1,400 texts)."""
    model = (suggester.embedder.name, getattr(suggester.embedder, "model_file", ""))
    todo = [t for t in dict.fromkeys(texts) if (model, t) not in _vectors]
    if todo:
        key = hashlib.sha256("\n".join([*model, *todo]).encode()).hexdigest()[:24]
        path = Path(cache_dir) / f"offtopic-{key}.npy" if cache_dir is not None else None
        found = _load_cached(path, (len(todo), suggester.embedder.dim)) if path else None
        if found is None:
            found = _encode(suggester, todo)
            if path:
                _save_cached(path, found)
        _vectors.update(((model, t), v) for t, v in zip(todo, found))
    return np.array([_vectors[(model, t)] for t in texts], np.float32).reshape(len(texts), -1)


def _load_cached(path: Path, shape: tuple[int, int]) -> np.ndarray | None:
    try:
        found = np.load(path)
    except (OSError, ValueError):
        return None
    return found if found.shape == shape else None


def _save_cached(path: Path, vectors: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.save(buffer, vectors)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, buffer.getvalue())
    except OSError:
        pass  # a cache only: a read-only index root still builds


def add_candidates(candidates: fit.Candidates, suggester: Suggester, base: Calibration,
                   queries: Sequence[tuple[list[str], int | None]], offtopic: bool = False,
                   cache_dir: Path | None = None) -> None:
    """Each query's prefixes (texts, the article position that answers it or None) with their candidates."""
    understood = [(i, prefix, suggester.understand(prefix)) for i, (prefixes, _) in enumerate(queries)
                  for prefix in prefixes]
    understood = [(i, prefix, q) for i, prefix, q in understood if q is not None]
    texts = [q.text.strip() for _, _, q in understood]
    vectors = _encode_offtopic(suggester, texts, cache_dir) if offtopic else _encode(suggester, texts)
    first = max(candidates.query, default=-1) + 1
    for (i, prefix, query), vector in zip(understood, vectors):
        positions, features, _ = suggester.candidate_features(query, vector)
        if not len(positions):
            continue
        gold = queries[i][1]
        candidates.add(features, positions == gold, base.logit(features), first + i, prefix == queries[i][0][-1],
                       gold is not None)


def cold_candidates(suggester: Suggester, base: Calibration, seed: int = SEED,
                    cache_dir: Path | None = None) -> tuple[fit.Candidates, dict]:
    pseudo = pseudo_queries(suggester.snapshot, seed)
    candidates = fit.Candidates()
    add_candidates(candidates, suggester, base, [(typed_prefixes(q.text), q.position) for q in pseudo])
    negatives = offtopic_texts()
    add_candidates(candidates, suggester, base, [(form_prefixes(t), None) for t in negatives], offtopic=True,
                   cache_dir=cache_dir)
    kinds = {kind: sum(q.kind == kind for q in pseudo) for kind in ("title", "heading", "question")}
    return candidates, {"pseudo_queries": len(pseudo), "by_kind": kinds, "offtopic_texts": len(negatives),
                        "examples": len(candidates), "seed": seed}


def fit_candidates(base: Calibration, candidates: fit.Candidates, pull: float = fit.PULL,
                   then: fit.Scale = fit.IDENTITY, unanswered: Sequence[bool] | None = None) -> tuple[Calibration, dict]:
    """``base``'s weights refitted (``pull`` towards them; inf: kept) and rescaled for these examples, the scale
    composed with ``then`` (pseudo-queries to real text; the identity for real history), with their two thresholds
    (chosen by rank on the composed score: ``then`` changes what a score says, not which texts are shown).
    ``unanswered`` marks the texts of the KB's own history that no article answered: when there are any, the
    scale is fitted on the history alone (answered and unanswered texts as often as they occur: the KB's own
    mix, not the declared half and half), and so is the chat threshold (the precision of the messages the KB
    gets); the form's, by rank, on the other texts as before."""
    if not any(candidates.answerable) or all(candidates.answerable):
        return base, {"fallback": "no answerable or no unanswerable example: the packaged weights, scale and "
                                  "thresholds"}
    own = list(unanswered) if unanswered is not None else []
    coef = fit.listwise_weights(candidates, base.coef, pull).astype(np.float32)
    examples = candidates.scored(coef, base.intercept)
    history = None
    if any(own):
        history = fit.rows(examples, [a or u for a, u in zip(examples.answerable, own)])
        scale, examples = fit.fit_scale(history, declared_prior=False), fit.rows(examples, [not u for u in own])
    else:
        scale = fit.fit_scale(examples)
    slope, offset = fit.compose(scale, then)
    chosen, reached = thresholds.thresholds(examples, slope, offset, chat_on=history)
    weighted = Calibration(coef, base.intercept, base.threshold, base.chat_threshold)
    mapped = {} if then == fit.IDENTITY else {
        "pseudo_to_real": {"slope": round(then[0], 4), "offset": round(then[1], 4)}}
    return weighted.rescaled(slope, offset, chosen), {
        "weights": {"pull": pull if np.isfinite(pull) else None,
                    "from": [round(float(c), 4) for c in base.coef], "to": [round(float(c), 4) for c in coef]},
        "slope": round(slope, 4), "offset": round(offset, 4), **mapped,
        "scale_prior": "the history's own mix" if any(own) else "half answerable, half not (declared)",
        "thresholds": chosen, "on_examples": reached}


def cold_start(suggester: Suggester, base: Calibration | None = None, seed: int = SEED,
               cache_dir: Path | None = None, pull: float = fit.PULL,
               real_text: fit.Scale | None = None) -> tuple[Calibration, dict]:
    """The calibration of ``suggester``'s KB, and how it was fitted (for the manifest); ``cache_dir``: where
    the off-topic texts' vectors may be kept between processes; ``real_text``: the map from pseudo-queries to
    real text (default: the packaged one; a leave-one-domain-out fold passes its own)."""
    base = base or Calibration.default()
    candidates, how = cold_candidates(suggester, base, seed, cache_dir)
    then = packaged_real_text_scale() if real_text is None else real_text
    calibration, result = fit_candidates(base, candidates, pull, then)
    return calibration, {"source": "cold start", "method": "learning/coldstart.py: the packaged weights refitted "
                         "listwise and Platt-scaled (then mapped to real text), form/chat thresholds, from the KB's "
                         "pseudo-queries and packaged off-topic text", **how, **result}
