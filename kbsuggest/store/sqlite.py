"""The SQLite implementation of the service store: one file (``KBSUGGEST_DB_PATH``), WAL, one connection.

The database is opened on first use, not at start: a missing, corrupt, full or read-only file never
stops the service from starting or suggesting; each operation that needs it raises
``StoreUnavailableError`` with the reason (the HTTP edge answers 503 JSON, the CLI one line).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from kbsuggest.db import open_db
from kbsuggest.domain import Ticket
from kbsuggest.errors import ConfigError, StoreUnavailableError
from kbsuggest.store.popular import popular_sql
from kbsuggest.store.rollup import Rollup, read_rollup, rollup_params, rollup_sql
from kbsuggest.store.signals import signals_sql
from kbsuggest.store.rows import EVENT_COLUMNS, TICKET_COLUMNS, ticket_of, with_metrics
from kbsuggest.store.rows import event_row as _event_row, ticket_row as _ticket_row  # tests make them fail midway
from kbsuggest.store.schema import MIGRATIONS
from kbsuggest.store.summary import refresh, refresh_batch
from kbsuggest.timestamps import utc_now

_INSERT_EVENT = f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES ({', '.join('?' * len(EVENT_COLUMNS))})"
_UPSERT_TICKET = (f"INSERT INTO tickets ({', '.join(TICKET_COLUMNS)}) VALUES ({', '.join('?' * len(TICKET_COLUMNS))}) "
                  f"ON CONFLICT(kb, id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in TICKET_COLUMNS[2:])}")


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction, taking the write lock at once: all of it or, on any failure or a kill, none."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # SQLite already rolled back on a full disk or I/O error:
            conn.execute("ROLLBACK")  # a second ROLLBACK would hide that reason
        raise


def _reason(exc: sqlite3.Error) -> str:
    return str(exc).split("\n")[0] or type(exc).__name__


class SQLiteStore:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._db: sqlite_utils.Database | None = None
        self._lock = threading.Lock()

    def _run(self, fn, *args, create: bool = True):
        """Run ``fn(db, *args)`` under the lock; ``create=False`` answers None when nothing exists at the path
        (something else than a database there, e.g. a directory, is unavailable, never "no data")."""
        with self._lock:
            try:
                if self._db is None:
                    if not create and not self.path.exists():
                        return None
                    self._db = open_db(self.path, MIGRATIONS, wal=True)
                return fn(self._db, *args)
            except sqlite3.Error as exc:
                self._close()
                raise StoreUnavailableError(f"the service database is unavailable: {_reason(exc)}") from None
            except OSError as exc:
                self._close()
                raise StoreUnavailableError(f"the service database is unavailable: {exc.strerror or exc}") from None

    def _close(self) -> None:
        if self._db is not None:
            try:
                self._db.conn.close()
            except sqlite3.Error:
                pass
            self._db = None

    def close(self) -> None:
        with self._lock:
            self._close()

    def check(self) -> None:
        """Open the database now (migrations included); raises StoreUnavailableError with the reason."""
        self._run(lambda db: db.execute("select count(*) from _migrations").fetchone())

    # events -----------------------------------------------------------------------------------------------
    def record_events(self, kb: str, rows: list[dict]) -> int:
        def insert(db):
            with _transaction(db.conn):
                db.conn.executemany(_INSERT_EVENT, (_event_row(kb, row) for row in rows))
                refresh_batch(db.conn.cursor(), "sqlite", kb, rows)
            return len(rows)
        return self._run(insert)

    def session_events(self, kb: str, start: str, end: str) -> list[dict]:
        """Every event of the sessions of ``kb`` whose first suggestion was shown in ``[start, end)``, in
        session and time order."""
        sql = ("select * from events where kb = ? and session_id in (select session_id from events "
               "where kb = ? and type = 'suggestions_shown' group by session_id having min(at) >= ? and min(at) < ?) "
               "order by session_id, at, id")
        return self._run(lambda db: list(db.query(sql, [kb, kb, start, end])), create=False) or []

    def deflection_rollup(self, kb: str, start: str, end: str, classify: str, values: dict, detail: bool = False,
                          top: int = 10) -> Rollup:
        """The deflection figures of ``kb``'s sessions that started in ``[start, end)``, aggregated in SQL
        (``rollup.py``); ``classify`` is the SQL of the rules, over ``values``."""
        sql = rollup_sql("sqlite", classify, detail)
        params = rollup_params(kb, start, end, top, values)
        return read_rollup(self._run(lambda db: db.execute(sql, params).fetchall(), create=False) or [])

    def gap_signals(self, kb: str, start: str, end: str) -> list[dict]:
        """The widget's gap signals of ``kb`` in ``[start, end)`` (``store/signals.py``), oldest first."""
        sql, params = signals_sql("sqlite"), {"kb": kb, "start": start, "end": end}
        return self._run(lambda db: list(db.query(sql, params)), create=False) or []

    def rebuild_summaries(self) -> None:
        """Recompute every session's summary rows (after a bulk load that bypassed ``record_events``)."""
        def rebuild(db):
            with _transaction(db.conn):
                refresh(db.conn.cursor(), "sqlite")
        self._run(rebuild)

    def popular_articles(self, kb: str, since: str, limit: int) -> list[tuple[str, int]]:
        """(article id, sessions that opened it or rated it helpful since ``since``), most first (``popular.py``)."""
        params = {"kb": kb, "since": since, "limit": limit}
        rows = self._run(lambda db: db.execute(popular_sql("sqlite"), params).fetchall(), create=False) or []
        return [(str(a), int(n)) for a, n in rows]

    # thresholds -------------------------------------------------------------------------------------------
    def set_threshold(self, kb: str, model: str, scale: str, min_score: float, target_precision: float,
                      run_id: int | None = None) -> None:
        row = {"kb": kb, "model": model, "scale": scale, "min_score": float(min_score),
               "target_precision": float(target_precision), "run_id": run_id, "tuned_at": utc_now()}
        self._run(lambda db: db["tuned_thresholds"].upsert(row, pk=("kb", "model", "scale")))

    def threshold(self, kb: str, model: str, scale: str) -> float | None:
        """The tuned threshold, or None; never creates the database."""
        def read(db):
            row = db.execute("select min_score from tuned_thresholds where kb = ? and model = ? and scale = ?",
                             (kb, model, scale)).fetchone()
            return None if row is None else float(row[0])
        return self._run(read, create=False)

    # evaluation runs --------------------------------------------------------------------------------------
    def record_evaluation(self, kb: str, row: dict) -> int:
        return self._run(lambda db: int(db["evaluation_runs"].insert({**row, "kb": kb, "created_at": utc_now()}).last_pk))

    def evaluations(self, kb: str, ids: list[int] | None = None, last: int = 5) -> list[dict]:
        """The runs of ``kb`` with these ids (in that order), or its ``last`` most recent, oldest first."""
        def read(db):
            if ids:
                found = {r["id"]: r for r in db.query(
                    f"select * from evaluation_runs where kb = ? and id in ({','.join('?' * len(ids))})", [kb, *ids])}
                missing = [str(i) for i in ids if i not in found]
                if missing:
                    raise ConfigError(f"no evaluation run with id {', '.join(missing)} for KB {kb!r}; list them with "
                                      f"`kbsuggest evaluate --compare`")
                return [found[i] for i in ids]
            return list(db.query("select * from evaluation_runs where kb = ? order by id desc limit ?", [kb, last]))[::-1]
        return with_metrics(self._run(read, create=False) or [])

    # tickets ----------------------------------------------------------------------------------------------------
    def write_tickets(self, kb: str, tickets: list[Ticket]) -> tuple[int, int]:
        """Upsert ``tickets`` of ``kb`` by id in one transaction (all or, on any failure or a kill, none);
        returns (inserted, updated) distinct ids."""
        def write(db):
            conn, stamp = db.conn, utc_now()
            with _transaction(conn):  # the write lock from the start: nothing else writes in between
                count = "SELECT count(*) FROM tickets WHERE kb = ?"
                before = conn.execute(count, [kb]).fetchone()[0]
                conn.executemany(_UPSERT_TICKET, (_ticket_row(kb, t, stamp) for t in tickets))
                inserted = conn.execute(count, [kb]).fetchone()[0] - before
            return inserted, len({t.id for t in tickets}) - inserted
        return self._run(write)

    def tickets(self, kb: str) -> list[Ticket]:
        """Every imported ticket of ``kb``, oldest first, as stored (not redacted)."""
        rows = self._run(lambda db: list(db.query(
            "select * from tickets where kb = ? order by created_at, id", [kb])), create=False) or []
        return [ticket_of(kb, r) for r in rows]

    # gap-mining runs --------------------------------------------------------------------------------------
    def last_gap_run(self, kb: str) -> list[dict]:
        """The gaps of ``kb``'s latest run, by rank ([] before the first run)."""
        def read(db):
            last = db.execute("select max(id) from gap_runs where kb = ?", [kb]).fetchone()[0]
            return [] if last is None else list(db.query("select * from gap_run_gaps where run_id = ? order by rank", [last]))
        return self._run(read, create=False) or []

    def gap_run_history(self, kb: str, runs: int = 12) -> list[dict]:
        """The gaps of ``kb``'s ``runs`` latest runs, newest run first, each with the run's ``as_of``."""
        sql = ("select g.*, r.as_of from gap_run_gaps g join gap_runs r on r.id = g.run_id where g.run_id in "
               "(select id from gap_runs where kb = ? order by id desc limit ?) order by g.run_id desc, g.rank")
        return self._run(lambda db: list(db.query(sql, [kb, runs])), create=False) or []

    def latest_gap_run(self, kb: str) -> dict | None:
        """``kb``'s latest gap-mining run (its row), or None."""
        def read(db):
            return next(iter(db.query("select * from gap_runs where kb = ? order by id desc limit 1", [kb])), None)
        return self._run(read, create=False)

    def save_gap_run(self, kb: str, run: dict, gaps: list[dict]) -> int:
        def write(db):
            with db.conn:
                run_id = db["gap_runs"].insert({**run, "kb": kb, "started_at": utc_now()}).last_pk
                db["gap_run_gaps"].insert_all({**gap, "run_id": run_id} for gap in gaps)
            return int(run_id)
        return self._run(write)

    # the index channel: none (one file is one machine's; replicas poll CURRENT) ---------------------------
    def announce(self, kb: str, version: str) -> None:
        pass

    def listen(self, heard, stop) -> None:
        pass
