"""Loading one KB: its current snapshot, the Suggester over it, and the policy it answers with.

The threshold (``min_score``) of each mode has one source at a time, highest first: the KB's explicit
setting (its ``kbs.toml`` table, or ``KBSUGGEST_MIN_SCORE`` for the default KB), for both modes; a
threshold tuned for this KB, model and calibration (``kbsuggest evaluate --tune-threshold``, in the
store), for the form (the chat keeps the stricter of it and its own); the thresholds its calibration
recommends (``calibration.json`` of the snapshot, fitted for this KB: form and chat).
"""

from __future__ import annotations

import hashlib
import logging
from kbsuggest.config import DEFAULT_KB, KBSettings, Settings, load_kbs
from kbsuggest.embed import Embedder, make_embedder, model_file_of
from kbsuggest.embed.models import BASE
from kbsuggest.errors import KBSuggestError, StoreUnavailableError
from kbsuggest.index import remote
from kbsuggest.index.format import read_manifest
from kbsuggest.index.snapshot import Snapshot, load_snapshot
from kbsuggest.index.versions import kb_dir, resolve
from kbsuggest.rank.calibration import Calibration
from kbsuggest.rank.suggester import Policy, Suggester
from kbsuggest.store import Store, open_store

log = logging.getLogger("kbsuggest")


def served_model(settings: Settings, kb: str) -> str:
    """The model KB ``kb`` is served with: that of its current version (``base`` when it has none yet).
    A KB's model is chosen by the index it was built with, so a reindex keeps it and a publication switches
    every replica (``kbsuggest models use`` reindexes with another one)."""
    try:
        return read_manifest(resolve(kb_dir(settings.index_dir, kb))).model_name
    except KBSuggestError:
        return BASE


def kb_embedder(settings: Settings, kb: str) -> Embedder:
    """The embedder of the model KB ``kb`` is served with (for indexing, suggesting, mining it)."""
    return make_embedder(settings, served_model(settings, kb), kb)


def calibration_scale(calibration: Calibration) -> str:
    """An identity of the score scale: thresholds tuned on another calibration are never applied."""
    raw = ",".join(f"{c:.6g}" for c in [*calibration.coef.tolist(), calibration.intercept])
    return "cal-" + hashlib.sha256(raw.encode()).hexdigest()[:12]


def tuned_threshold(store: Store | None, kb: str, model: str, calibration: Calibration) -> float | None:
    if store is None:
        return None
    try:
        return store.threshold(kb, model, calibration_scale(calibration))
    except StoreUnavailableError as exc:  # the store is not needed to suggest: serve with the calibrated one
        log.warning("tuned threshold of KB %r not read: %s", kb, exc)
        return None


def policy_for(settings: Settings, kb: KBSettings, calibration: Calibration, tuned: float | None) -> Policy:
    if kb.min_score is not None:
        form = chat = kb.min_score
    elif tuned is not None:
        form, chat = tuned, max(tuned, calibration.threshold_for("chat"))
    else:
        form, chat = calibration.threshold_for("form"), calibration.threshold_for("chat")
    return Policy(min_score=form, chat_min_score=chat, default_k=settings.default_k, max_k=settings.max_k,
                  min_query_chars=settings.min_query_chars, snippet_chars=settings.snippet_chars,
                  default_locale=kb.default_locale)


def snapshot_calibration(snapshot: Snapshot) -> Calibration:
    return Calibration.from_dict(snapshot.calibration) if snapshot.calibration else Calibration.default()


def build_suggester(settings: Settings, kb: KBSettings, embedder: Embedder, store: Store | None = None,
                    embed_query=None) -> Suggester:
    """Load KB ``kb``'s current snapshot and the Suggester over it (raises the index errors)."""
    snapshot = load_snapshot(kb_dir(settings.index_dir, kb.name), embedder.name, embedder.dim, model_file_of(embedder), kb.name)
    calibration = snapshot_calibration(snapshot)
    policy = policy_for(settings, kb, calibration, tuned_threshold(store, kb.name, embedder.name, calibration))
    return Suggester(snapshot, embedder, policy, calibration, embed_query)


def load_suggester(settings: Settings, embedder: Embedder | None = None, kb: str = DEFAULT_KB,
                   store: Store | None = None) -> Suggester:
    """One KB's Suggester outside a server (CLI, evaluation, gap mining, tests); its tuned threshold is read
    from ``store`` (default: the configured one; never created by reading)."""
    remote.sync(settings, kb)  # with KBSUGGEST_INDEX_URL: the version the fleet serves
    kbs = load_kbs(settings)
    config = kbs.get(kb) or KBSettings(name=kb)
    return build_suggester(settings, config, embedder or kb_embedder(settings, kb),
                           store if store is not None else open_store(settings))
