"""Evaluation runs recorded in the service store, so ``kbsuggest evaluate --compare`` can set
configurations side by side. The table belongs to ``kbsuggest/store``."""

from __future__ import annotations

import json

from kbsuggest.config import Settings
from kbsuggest.errors import ConfigError
from kbsuggest.store import Store


def record_run(store: Store, kb: str, settings: Settings, metrics: dict, seconds: float) -> int:
    config = metrics["config"]
    return store.record_evaluation(kb, {
        "tickets": config["tickets"], "tickets_sha256": config["tickets_sha256"], "model": config["model"],
        "articles_hash": config["articles_hash"], "min_score": config["min_score"],
        "settings": settings.model_dump_json(exclude={"agent_api_keys", "admin_api_keys"}),
        "metrics": json.dumps(metrics), "seconds": round(seconds, 2),
    })


def load_runs(store: Store, kb: str, ids: list[int] | None = None, last: int = 5) -> list[dict]:
    """The runs with these ids (in that order), or the ``last`` most recent, oldest first."""
    rows = store.evaluations(kb, ids, last)
    if not rows:
        raise ConfigError(f"no evaluation runs recorded for KB {kb!r}; run `kbsuggest evaluate TICKETS` first")
    return rows
