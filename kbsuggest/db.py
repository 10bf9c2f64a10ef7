"""SQLite through sqlite-utils, with named schema migrations.

Two databases use it: the article/chunk metadata inside each index directory (``kbsuggest/index/kbdb.py``)
and the service database (``settings.db_path``) where each component (events, tickets, evaluation
runs…) keeps its own list of migrations. A migration is ``(name, function)``; the names applied so
far are recorded in the ``_migrations`` table, so components evolve their tables independently and
a database is brought up to date by ``open_db(path, component_migrations)``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import sqlite_utils

Migration = tuple[str, Callable[[sqlite_utils.Database], None]]  # (unique name, schema change)


def open_db(path: Path | str, migrations: Sequence[Migration] = (), *, wal: bool = False) -> sqlite_utils.Database:
    """Open (creating if needed) and apply, in order, the migrations not applied yet.

    Each migration runs in its own transaction with its bookkeeping row, so a failure leaves the
    database at the last migration that completed.
    """
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 5000")
    if wal:  # the service database: readers never block the one writer
        conn.execute("PRAGMA journal_mode = WAL")
    db = sqlite_utils.Database(conn)
    if migrations:
        conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
        done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
        for name, migrate in migrations:
            if name in done:
                continue
            conn.execute("BEGIN")
            try:
                migrate(db)
                conn.execute("INSERT INTO _migrations VALUES (?, datetime('now'))", (name,))
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # SQLite already rolled back on a full disk or I/O error:
                    conn.execute("ROLLBACK")  # a second ROLLBACK would hide that reason
                raise
    return db
