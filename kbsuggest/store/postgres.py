"""The PostgreSQL implementation of the service store (``KBSUGGEST_DATABASE_URL``), shared by every replica.

psycopg 3 with a connection pool, opened on first use like the SQLite file: a database that is down never
stops the service from starting or suggesting. Each operation is one transaction on a pooled connection
(an event batch, a ticket import: all or nothing); every failure raises ``StoreUnavailableError`` with the
server's reason — never the URL or its password. Migrations (``pg_schema.py``) run once per process before
its first write, under an advisory lock, so replicas starting together apply each one once.

The index channel: ``announce`` sends ``NOTIFY kbsuggest_index, '<kb> <version>'`` after a publication;
``listen`` blocks on ``LISTEN kbsuggest_index`` (``kbsuggest/kbs/watch.py`` runs it in a thread).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

from kbsuggest.domain import Ticket
from kbsuggest.errors import ConfigError, MissingDependencyError, StoreUnavailableError
from kbsuggest.store.pg_schema import LOCK_KEY, MIGRATIONS, REFRESH_AFTER, SESSION_EVENTS
from kbsuggest.store.popular import popular_sql
from kbsuggest.store.rollup import Rollup, read_rollup, rollup_params, rollup_sql
from kbsuggest.store.signals import signals_sql
from kbsuggest.store.rows import EVENT_COLUMNS, TICKET_COLUMNS, ticket_of, with_metrics
from kbsuggest.store.rows import event_row as _event_row, ticket_row as _ticket_row  # tests make them fail midway
from kbsuggest.store.summary import refresh, refresh_batch
from kbsuggest.timestamps import utc_now

log = logging.getLogger("kbsuggest")
CHANNEL = "kbsuggest_index"
CONNECT_TIMEOUT = 5  # seconds: an operation fails (503) rather than hang when the server is unreachable


def _placeholders(n: int) -> str:
    return ", ".join(["%s"] * n)


_INSERT_EVENT = f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES ({_placeholders(len(EVENT_COLUMNS))})"
_UPSERT_TICKET = (f"INSERT INTO tickets ({', '.join(TICKET_COLUMNS)}) VALUES ({_placeholders(len(TICKET_COLUMNS))}) "
                  f"ON CONFLICT (kb, id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in TICKET_COLUMNS[2:])}")


def _psycopg():
    try:
        import psycopg
        import psycopg_pool
    except ImportError:
        raise MissingDependencyError("KBSUGGEST_DATABASE_URL needs psycopg: pip install 'kbsuggest[fleet]'") from None
    return psycopg, psycopg_pool


class PostgresStore:
    def __init__(self, url: str, pool_size: int = 10, timeout: float = CONNECT_TIMEOUT) -> None:
        self.url, self.pool_size, self.timeout = url, pool_size, timeout
        self._pool = None
        self._migrated = False
        self._lock = threading.Lock()
        password = unquote(urlsplit(url).password or "")
        self._secrets = [s for s in (url, password) if s]

    # connections ------------------------------------------------------------------------------------------
    def _reason(self, exc: Exception) -> str:
        """The server's first line, with the URL and the password blanked out."""
        text = (str(exc).strip().split("\n")[0] or type(exc).__name__)
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _unavailable(self, exc: Exception) -> StoreUnavailableError:
        psycopg, pool = _psycopg()
        if isinstance(exc, pool.PoolTimeout):  # "couldn't get a connection": ask the server why, once
            try:
                psycopg.connect(self.url, connect_timeout=max(1, round(self.timeout))).close()
            except psycopg.Error as direct:
                exc = direct
        return StoreUnavailableError(f"the service database is unavailable: {self._reason(exc)}")

    def _get_pool(self):
        psycopg, pool = _psycopg()
        with self._lock:
            if self._pool is None:
                self._pool = pool.ConnectionPool(
                    self.url, min_size=1, max_size=self.pool_size, open=False, timeout=self.timeout,
                    check=pool.ConnectionPool.check_connection, name="kbsuggest",
                    kwargs={"autocommit": True, "connect_timeout": max(1, round(self.timeout))})
                self._pool.open(wait=False)
            return self._pool

    def _run(self, fn: Callable, *, create: bool = True, dict_rows: bool = False):
        """``fn(conn)`` in one transaction; ``create=False`` answers None when the tables do not exist yet."""
        psycopg, _ = _psycopg()
        from psycopg.rows import dict_row, tuple_row

        try:
            with self._get_pool().connection() as conn:
                conn.row_factory = dict_row if dict_rows else tuple_row
                if create and not self._migrated:
                    self._migrate(conn)
                with conn.transaction():
                    return fn(conn)
        except psycopg.errors.UndefinedTable:
            if not create:
                return None
            raise StoreUnavailableError("the service database is unavailable: its tables are missing") from None
        except psycopg.Error as exc:
            raise self._unavailable(exc) from None

    def _migrate(self, conn) -> None:
        """Apply the migrations this database has not had, all in one transaction under the advisory lock."""
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
            conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name text PRIMARY KEY, applied_at text)")
            done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
            for name, sql in MIGRATIONS:
                if name not in done:
                    conn.execute(sql)
                    if name == REFRESH_AFTER:  # summarise the sessions recorded before the summary tables
                        with conn.cursor() as cur:
                            refresh(cur, "postgres", days=False)
                    conn.execute("INSERT INTO _migrations VALUES (%s, %s)", [name, utc_now()])
        self._migrated = True

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None

    def check(self) -> None:
        """Connect now (migrations included); raises StoreUnavailableError with the reason."""
        self._run(lambda conn: conn.execute("SELECT count(*) FROM _migrations").fetchone())

    # events -----------------------------------------------------------------------------------------------
    def record_events(self, kb: str, rows: list[dict]) -> int:
        def insert(conn):
            with conn.cursor() as cur:
                cur.executemany(_INSERT_EVENT, (_event_row(kb, row) for row in rows))  # pipelined: one round trip
                refresh_batch(cur, "postgres", kb, rows)
            return len(rows)
        return self._run(insert)

    def session_events(self, kb: str, start: str, end: str) -> list[dict]:
        """Every event of the sessions of ``kb`` whose first suggestion was shown in ``[start, end)``, in
        session and time order."""
        return self._read(SESSION_EVENTS, {"kb": kb, "start": start, "end": end}, dict_rows=True)

    def _read(self, sql, params: dict, dict_rows: bool = False) -> list:
        """The rows of one read-only statement ([] when the tables do not exist yet)."""
        return self._run(lambda conn: conn.execute(sql, params).fetchall(), create=False, dict_rows=dict_rows) or []

    def deflection_rollup(self, kb: str, start: str, end: str, classify: str, values: dict, detail: bool = False,
                          top: int = 10) -> Rollup:
        """The deflection figures of ``kb``'s sessions that started in ``[start, end)``, aggregated in SQL
        (``rollup.py``); ``classify`` is the SQL of the rules, over ``values``."""
        sql = rollup_sql("postgres", classify, detail)
        params = rollup_params(kb, start, end, top, values)

        def read(conn):
            # JIT compilation cost 0.6 s of a query it does not speed up.
            conn.execute("SET LOCAL jit = off")
            return conn.execute(sql, params).fetchall()
        return read_rollup(self._run(read, create=False) or [])

    def gap_signals(self, kb: str, start: str, end: str) -> list[dict]:
        """The widget's gap signals of ``kb`` in ``[start, end)`` (``store/signals.py``), oldest first."""
        return self._read(signals_sql("postgres"), {"kb": kb, "start": start, "end": end}, dict_rows=True)

    def rebuild_summaries(self) -> None:
        """Recompute every session's summary rows (after a bulk load that bypassed ``record_events``)."""
        def rebuild(conn):
            with conn.cursor() as cur:
                refresh(cur, "postgres")
        self._run(rebuild)

    def popular_articles(self, kb: str, since: str, limit: int) -> list[tuple[str, int]]:
        """(article id, sessions that opened it or rated it helpful since ``since``), most first (``popular.py``)."""
        return [(str(a), int(n)) for a, n in self._read(popular_sql("postgres"), {"kb": kb, "since": since, "limit": limit})]

    # thresholds -------------------------------------------------------------------------------------------
    def set_threshold(self, kb: str, model: str, scale: str, min_score: float, target_precision: float,
                      run_id: int | None = None) -> None:
        self._run(lambda conn: conn.execute(
            "INSERT INTO tuned_thresholds VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (kb, model, scale) DO "
            "UPDATE SET min_score = excluded.min_score, target_precision = excluded.target_precision, "
            "run_id = excluded.run_id, tuned_at = excluded.tuned_at",
            [kb, model, scale, float(min_score), float(target_precision), run_id, utc_now()]))

    def threshold(self, kb: str, model: str, scale: str) -> float | None:
        """The tuned threshold, or None; never creates anything."""
        row = self._run(lambda conn: conn.execute(
            "SELECT min_score FROM tuned_thresholds WHERE kb = %s AND model = %s AND scale = %s",
            [kb, model, scale]).fetchone(), create=False)
        return None if row is None else float(row[0])

    # evaluation runs --------------------------------------------------------------------------------------
    def record_evaluation(self, kb: str, row: dict) -> int:
        from psycopg import sql

        values = {**row, "kb": kb, "created_at": utc_now()}
        query = sql.SQL("INSERT INTO evaluation_runs ({}) VALUES ({}) RETURNING id").format(
            sql.SQL(", ").join(map(sql.Identifier, values)), sql.SQL(_placeholders(len(values))))
        return int(self._run(lambda conn: conn.execute(query, list(values.values())).fetchone()[0]))

    def evaluations(self, kb: str, ids: list[int] | None = None, last: int = 5) -> list[dict]:
        """The runs of ``kb`` with these ids (in that order), or its ``last`` most recent, oldest first."""
        def read(conn):
            if ids:
                found = {r["id"]: r for r in conn.execute(
                    "SELECT * FROM evaluation_runs WHERE kb = %s AND id = ANY(%s)", [kb, list(ids)])}
                missing = [str(i) for i in ids if i not in found]
                if missing:
                    raise ConfigError(f"no evaluation run with id {', '.join(missing)} for KB {kb!r}; list them with "
                                      f"`kbsuggest evaluate --compare`")
                return [found[i] for i in ids]
            return conn.execute("SELECT * FROM evaluation_runs WHERE kb = %s ORDER BY id DESC LIMIT %s",
                                [kb, last]).fetchall()[::-1]
        return with_metrics(self._run(read, create=False, dict_rows=True) or [])

    # tickets ----------------------------------------------------------------------------------------------
    def write_tickets(self, kb: str, tickets: list[Ticket]) -> tuple[int, int]:
        """Upsert ``tickets`` of ``kb`` by id in one transaction (all or, on any failure or a kill, none);
        returns (inserted, updated) distinct ids. Imports of one KB are serialised, so the counts are exact."""
        def write(conn):
            stamp = utc_now()
            conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [LOCK_KEY, kb])
            count = "SELECT count(*) FROM tickets WHERE kb = %s"
            before = conn.execute(count, [kb]).fetchone()[0]
            with conn.cursor() as cur:
                cur.executemany(_UPSERT_TICKET, (_ticket_row(kb, t, stamp) for t in tickets))
            inserted = conn.execute(count, [kb]).fetchone()[0] - before
            return inserted, len({t.id for t in tickets}) - inserted
        return self._run(write)

    def tickets(self, kb: str) -> list[Ticket]:
        """Every imported ticket of ``kb``, oldest first, as stored (not redacted)."""
        rows = self._run(lambda conn: conn.execute(
            "SELECT * FROM tickets WHERE kb = %s ORDER BY created_at, id", [kb]).fetchall(),
            create=False, dict_rows=True) or []
        return [ticket_of(kb, r) for r in rows]

    # gap-mining runs --------------------------------------------------------------------------------------
    def last_gap_run(self, kb: str) -> list[dict]:
        """The gaps of ``kb``'s latest run, by rank ([] before the first run)."""
        return self._run(lambda conn: conn.execute(
            "SELECT * FROM gap_run_gaps WHERE run_id = (SELECT max(id) FROM gap_runs WHERE kb = %s) ORDER BY rank",
            [kb]).fetchall(), create=False, dict_rows=True) or []

    def gap_run_history(self, kb: str, runs: int = 12) -> list[dict]:
        """The gaps of ``kb``'s ``runs`` latest runs, newest run first, each with the run's ``as_of``."""
        return self._run(lambda conn: conn.execute(
            "SELECT g.*, r.as_of FROM gap_run_gaps g JOIN gap_runs r ON r.id = g.run_id WHERE g.run_id IN "
            "(SELECT id FROM gap_runs WHERE kb = %s ORDER BY id DESC LIMIT %s) ORDER BY g.run_id DESC, g.rank",
            [kb, runs]).fetchall(), create=False, dict_rows=True) or []

    def latest_gap_run(self, kb: str) -> dict | None:
        """``kb``'s latest gap-mining run (its row), or None."""
        return self._run(lambda conn: conn.execute(
            "SELECT * FROM gap_runs WHERE kb = %s ORDER BY id DESC LIMIT 1", [kb]).fetchone(), create=False, dict_rows=True)

    def save_gap_run(self, kb: str, run: dict, gaps: list[dict]) -> int:
        from psycopg import sql

        def insert(conn, table: str, values: dict, returning: str = ""):
            query = sql.SQL("INSERT INTO {} ({}) VALUES ({})" + returning).format(
                sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, values)),
                sql.SQL(_placeholders(len(values))))
            return conn.execute(query, list(values.values()))

        def write(conn):
            run_id = insert(conn, "gap_runs", {**run, "kb": kb, "started_at": utc_now()}, " RETURNING id").fetchone()[0]
            for gap in gaps:
                insert(conn, "gap_run_gaps", {**gap, "run_id": run_id})
            return int(run_id)
        return self._run(write)

    # the index channel ------------------------------------------------------------------------------------
    def announce(self, kb: str, version: str) -> None:
        """Tell every replica that ``kb`` now points at ``version`` (best effort: replicas also poll)."""
        self._run(lambda conn: conn.execute("SELECT pg_notify(%s, %s)", [CHANNEL, f"{kb} {version}"]), create=False)

    def listen(self, heard: Callable[[str], None], stop: threading.Event) -> None:
        """Call ``heard('<kb> <version>')`` for each announcement until ``stop`` is set; reconnects after a
        failure (logged). Runs on a connection of its own, outside the pool."""
        psycopg, _ = _psycopg()
        while not stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    heard("")  # (re)connected: announcements may have been missed, so look now
                    while not stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            heard(note.payload)
            except psycopg.Error as exc:
                log.warning("index notifications unavailable (polling only until they are back): %s",
                            self._reason(exc))
                stop.wait(CONNECT_TIMEOUT)
