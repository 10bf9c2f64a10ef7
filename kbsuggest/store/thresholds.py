"""Thresholds tuned offline (``kbsuggest evaluate --tune-threshold``), read when a Suggester loads.

They live in the service database, keyed by embedding model, so they survive reindexing and a
threshold fitted for one model is never applied to another. Precedence, highest first:
an explicitly set ``min_score`` (``KBSUGGEST_MIN_SCORE`` or a constructor argument), the tuned value
for the embedder in use, the default of ``Settings.min_score``.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import sqlite_utils

from kbsuggest.config import Settings
from kbsuggest.db import Migration, open_db

TABLE = "tuned_thresholds"
# What ``score`` means. Thresholds are stored under "<model>|<scale>", so a threshold tuned on another
# scale (the cosine scores before calibration, or an older calibration) is never read as one of ours.
# Change it whenever calibration.json is refitted.
SCORE_SCALE = "calibrated-v1"


def _key(model: str) -> str:
    return f"{model}|{SCORE_SCALE}"


def _create(db: sqlite_utils.Database) -> None:
    db[TABLE].create(
        {"model": str, "min_score": float, "target_precision": float, "run_id": int, "tuned_at": str}, pk="model"
    )


TUNING_MIGRATIONS: list[Migration] = [("tuning-001-thresholds", _create)]


def store_min_score(settings: Settings, model: str, min_score: float, target_precision: float,
                    run_id: int | None = None) -> None:
    db = open_db(settings.db_path, TUNING_MIGRATIONS, wal=True)
    try:
        db[TABLE].upsert({
            "model": _key(model), "min_score": float(min_score), "target_precision": float(target_precision),
            "run_id": run_id, "tuned_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        }, pk="model")
    finally:
        db.conn.close()


def tuned_min_score(db_path: Path, model: str) -> float | None:
    """The stored threshold for ``model``, or None; never creates the database."""
    if not Path(db_path).is_file():
        return None
    conn = sqlite3.connect(str(db_path))  # it exists, so this creates nothing
    try:
        row = conn.execute(f"SELECT min_score FROM {TABLE} WHERE model = ?", (_key(model),)).fetchone()
    except sqlite3.OperationalError:  # table not created yet: nothing was tuned
        return None
    finally:
        conn.close()
    return None if row is None else float(row[0])


def effective_settings(settings: Settings, model: str) -> Settings:
    """``settings`` with the tuned ``min_score`` applied, unless min_score was set explicitly."""
    if "min_score" in settings.model_fields_set:
        return settings
    tuned = tuned_min_score(settings.db_path, model)
    return settings if tuned is None else settings.model_copy(update={"min_score": tuned})
