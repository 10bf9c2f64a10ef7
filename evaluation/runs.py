"""Evaluation runs recorded in the service database, so ``kbsuggest evaluate --compare`` can set
configurations side by side."""

from __future__ import annotations

import datetime as dt
import json

import sqlite_utils

from kbsuggest.config import Settings
from kbsuggest.errors import ConfigError
from kbsuggest.db import Migration, open_db

TABLE = "evaluation_runs"


def _create(db: sqlite_utils.Database) -> None:
    db[TABLE].create({
        "id": int, "created_at": str, "tickets": str, "tickets_sha256": str, "model": str, "articles_hash": str,
        "min_score": float, "settings": str, "metrics": str, "seconds": float,
    }, pk="id")


EVALUATION_MIGRATIONS: list[Migration] = [("evaluation-001-runs", _create)]


def _db(settings: Settings) -> sqlite_utils.Database:
    return open_db(settings.db_path, EVALUATION_MIGRATIONS, wal=True)


def record_run(settings: Settings, metrics: dict, seconds: float) -> int:
    config = metrics["config"]
    db = _db(settings)
    try:
        table = db[TABLE].insert({
            "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "tickets": config["tickets"], "tickets_sha256": config["tickets_sha256"], "model": config["model"],
            "articles_hash": config["articles_hash"], "min_score": config["min_score"],
            "settings": settings.model_dump_json(exclude={"agent_api_keys"}),
            "metrics": json.dumps(metrics), "seconds": round(seconds, 2),
        })
        return int(table.last_pk)
    finally:
        db.conn.close()


def load_runs(settings: Settings, ids: list[int] | None = None, last: int = 5) -> list[dict]:
    """The runs with these ids (in that order), or the ``last`` most recent, oldest first."""
    db = _db(settings)
    try:
        if ids:
            found = {r["id"]: r for r in db.query(
                f"select * from {TABLE} where id in ({','.join('?' * len(ids))})", ids)}
            missing = [str(i) for i in ids if i not in found]
            if missing:
                raise ConfigError(f"no evaluation run with id {', '.join(missing)} in {str(settings.db_path)!r}; "
                                  f"list them with `kbsuggest evaluate --compare`")
            rows = [found[i] for i in ids]
        else:
            rows = list(db.query(f"select * from {TABLE} order by id desc limit ?", [last]))[::-1]
    finally:
        db.conn.close()
    if not rows:
        raise ConfigError(f"no evaluation runs recorded in {str(settings.db_path)!r}; run `kbsuggest evaluate TICKETS` first")
    for row in rows:
        row["metrics"] = json.loads(row["metrics"])
    return rows
