"""Per-session summary tables, kept up to date as events are inserted, so the statistics read a few rows
per session instead of every event (``rollup.py`` reads them).

A batch of widget events is one session's (``EventBatch.session_id``), so after each insert the store
recomputes that session's rows from its events (a few dozen rows, on the ``(kb, session_id, …)`` index),
in the same transaction — arrival order is not time order, and the rows always equal what the events say:

- ``session_facts``: one row per session that was shown suggestions — when it started (its first
  suggestion), the mode, locale and product of that first list, and the facts the deflection rules read
  (first and last signal, first ticket, last event, as integer microseconds; rated helpful, rated
  unhelpful, opened, shown an empty list);
- ``session_articles``: per session and article: shown, opened (or rated), rated helpful, "still need help",
  and a copy of the session's facts;
- ``session_queries``: per session, the queries that got no suggestion (``unanswered``, keystroke prefixes
  dropped) and the queries of "I still need help" answers (``need_help``), by ``kbsuggest/text.py``'s
  rules (``session_queries``).

Each refresh also keeps the per-day counts of ``daily.py`` (what a session adds to its day's cells).
``refresh`` without a session recomputes every session at once (a migration on an existing database; bulk loads).
"""

from __future__ import annotations

from collections.abc import Iterable

from kbsuggest.store import daily
from kbsuggest.store.rollup import DIALECTS, for_dialect
from kbsuggest.text import session_queries

SESSION_KEYS = ("kb", "session_id")
FACT_COLUMNS = ("kb", "session_id", "started_at", "mode", "locale", "product", "first_signal", "last_signal",
                "first_ticket", "last_at", "helpful", "unhelpful", "opened", "unanswered")

# One DDL for both backends: ``{text}`` is the text type (PostgreSQL's compares bytes, as SQLite does).
SUMMARY_DDL = (
    """CREATE TABLE session_facts (kb {text} NOT NULL, session_id {text} NOT NULL, started_at {text} NOT NULL,
        mode {text}, locale {text}, product {text}, first_signal {bigint}, last_signal {bigint}, first_ticket {bigint},
        last_at {bigint}, helpful INTEGER, unhelpful INTEGER, opened INTEGER, unanswered INTEGER,
        PRIMARY KEY (kb, session_id))""",
    # covering: the statistics read a period's sessions from the index alone
    """CREATE INDEX session_facts_started ON session_facts (kb, started_at, mode, locale, product, first_signal,
        last_signal, first_ticket, last_at, helpful, unhelpful, opened)""",
    # with a copy of the session's facts, so an article's confirmed and potential sessions need no join
    """CREATE TABLE session_articles (kb {text} NOT NULL, session_id {text} NOT NULL, article_id {text} NOT NULL,
        started_at {text} NOT NULL, shown INTEGER, opened INTEGER, good INTEGER, bad INTEGER,
        first_signal {bigint}, last_signal {bigint}, first_ticket {bigint}, last_at {bigint}, helpful INTEGER,
        unhelpful INTEGER, PRIMARY KEY (kb, session_id, article_id))""",
    """CREATE INDEX session_articles_started ON session_articles (kb, started_at, article_id, shown, opened, good, bad,
        first_signal, last_signal, first_ticket, last_at, helpful, unhelpful)""",
    """CREATE TABLE session_queries (kb {text} NOT NULL, session_id {text} NOT NULL, kind {text} NOT NULL,
        query {text} NOT NULL, started_at {text} NOT NULL, PRIMARY KEY (kb, session_id, kind, query))""",
    "CREATE INDEX session_queries_started ON session_queries (kb, kind, started_at, query)",
)

_EV = """SELECT e.kb, e.session_id, e.id, e.type, e.at, e.mode, e.locale, e.product, e.article_id, e.suggestions,
    CASE WHEN e.type = 'feedback' AND coalesce(e.helpful, 0) <> 0 THEN 1 ELSE 0 END AS good,
    CASE WHEN e.type = 'feedback' AND coalesce(e.helpful, 0) = 0 THEN 1 ELSE 0 END AS bad,
    CASE WHEN e.type IN ('article_opened', 'feedback') THEN 1 ELSE 0 END AS signal,
    CASE WHEN e.type = 'suggestions_shown' AND coalesce(e.suggestions, '[]') IN ('[]', '') THEN 1 ELSE 0 END AS empty
  FROM events e WHERE {where}"""

_FACTS = """INSERT INTO session_facts ({columns})
WITH ev AS ({ev}), firsts AS (
  SELECT kb, session_id, at, mode, locale, product,
    row_number() OVER (PARTITION BY kb, session_id ORDER BY at, id) AS n
  FROM ev WHERE type = 'suggestions_shown'
)
SELECT ev.kb, ev.session_id, f.at, f.mode, f.locale, f.product,
  {first_signal}, {last_signal}, {first_ticket}, {last_at}, max(good), max(bad), max(signal), max(empty)
FROM ev JOIN firsts f ON f.kb = ev.kb AND f.session_id = ev.session_id AND f.n = 1
GROUP BY ev.kb, ev.session_id, f.at, f.mode, f.locale, f.product"""

_ARTICLES = """INSERT INTO session_articles (kb, session_id, article_id, started_at, shown, opened, good, bad,
    first_signal, last_signal, first_ticket, last_at, helpful, unhelpful)
WITH ev AS ({ev}), pairs AS (
  SELECT ev.kb, ev.session_id, {shown_id} AS article_id, 1 AS shown, 0 AS opened, 0 AS good, 0 AS bad
    FROM ev {shown} WHERE ev.type = 'suggestions_shown'
  UNION ALL
  SELECT kb, session_id, article_id, 0, 1, good, bad FROM ev WHERE signal = 1
)
SELECT p.kb, p.session_id, p.article_id, f.started_at, max(p.shown), max(p.opened), max(p.good), max(p.bad),
  f.first_signal, f.last_signal, f.first_ticket, f.last_at, f.helpful, f.unhelpful
FROM pairs p JOIN session_facts f ON f.kb = p.kb AND f.session_id = p.session_id
WHERE p.article_id IS NOT NULL
GROUP BY p.kb, p.session_id, p.article_id, f.started_at, f.first_signal, f.last_signal, f.first_ticket, f.last_at,
  f.helpful, f.unhelpful"""

# What the Python rules need to find a session's queries: its suggestion lists in time order, and its
# "I still need help" answers (sessions never shown a list get no row: session_queries copies their start).
# Sorted in Python: an ORDER BY on the time makes SQLite pick the (kb, at) index and scan the KB's every event.
_QUERY_EVENTS = """SELECT e.kb, e.session_id, e.at, e.id, e.type, e.query,
    CASE WHEN coalesce(e.suggestions, '[]') IN ('[]', '') THEN 1 ELSE 0 END AS empty
  FROM events e WHERE {where} AND e.type IN ('suggestions_shown', 'feedback') AND coalesce(e.helpful, 0) = 0"""

_ONE = "e.kb = %(kb)s AND e.session_id = %(session)s"
_ALL = "1 = 1"
_TABLES = ("session_facts", "session_articles", "session_queries")

def _statements(dialect: str, where: str) -> tuple[str, str, str]:
    spelt = DIALECTS[dialect]

    def us(x: str) -> str:
        return spelt["us"].format(x=x)
    ev = _EV.format(where=where)
    facts = _FACTS.format(
        columns=", ".join(FACT_COLUMNS), ev=ev,
        first_signal=us("min(CASE WHEN signal = 1 THEN ev.at END)"),
        last_signal=us("max(CASE WHEN signal = 1 THEN ev.at END)"),
        first_ticket=us("min(CASE WHEN type = 'ticket_submitted' THEN ev.at END)"), last_at=us("max(ev.at)"))
    articles = _ARTICLES.format(ev=ev, shown=spelt["shown"], shown_id=spelt["shown_id"])
    out = (facts, articles, _QUERY_EVENTS.format(where=where))
    return tuple(for_dialect(s, dialect) for s in out)


def refresh(cur, dialect: str, kb: str | None = None, session: str | None = None, days: bool = True) -> None:
    """Recompute the summary rows of one session (``kb``, ``session``), or of every session when both are
    None, with the cursor ``cur`` of the store's open transaction (``days``, every session: and the day
    tables, which the migrations before ``events-005-daily-counts`` do not have; one session's difference to
    them is ``refresh_batch``'s)."""
    where, params = (_ONE, {"kb": kb, "session": session}) if session is not None else (_ALL, {})
    facts, articles, query_events = _statements(dialect, where)
    p = daily.placeholder(dialect)
    for table in _TABLES:
        if session is None:
            cur.execute(f"DELETE FROM {table}", [])
        else:
            cur.execute(f"DELETE FROM {table} WHERE kb = {p} AND session_id = {p}", [kb, session])
    cur.execute(facts, params)
    cur.execute(articles, params)
    rows = sorted(cur.execute(query_events, params).fetchall(), key=lambda r: (r[0], r[1], r[2], r[3]))
    found = [(k, s, kind, q) for (k, s), events in _by_session(rows) for kind, q in session_queries(events)]
    if found:
        cur.executemany(f"INSERT INTO session_queries (kb, session_id, kind, query, started_at) "
                     f"SELECT {p}, {p}, {p}, {p}, started_at FROM session_facts WHERE kb = {p} AND session_id = {p}",
                     [(k, s, kind, q, k, s) for k, s, kind, q in found])
    if days and session is None:
        daily.rebuild(cur)
        if dialect == "postgres":
            cur.execute(daily.ANALYZE)


def refresh_batch(cur, dialect: str, kb: str, rows: list[dict]) -> None:
    """Recompute the summary rows of every session an event batch touched (a widget batch holds one), and
    the difference they make to the day tables."""
    sessions = sorted({row["session_id"] for row in rows})
    if dialect == "postgres":  # two replicas refreshing one session at once: the second reads the first's rows,
        for session in sessions:  # else it would take its "before" from under the first and count it twice
            cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s), hashtext(%s))", [kb, session])
    before = daily.contributions(cur, dialect, kb, sessions)
    for session in sessions:
        refresh(cur, dialect, kb, session, days=False)
    # last: the day rows, which other sessions' writers share, stay locked only until the commit
    daily.apply(cur, dialect, before, daily.contributions(cur, dialect, kb, sessions))


def _by_session(rows: Iterable[tuple]) -> Iterable[tuple[tuple[str, str], list[tuple[str, str, bool]]]]:
    current, events = None, []
    for kb, session, _at, _id, kind, query, empty in rows:
        if (kb, session) != current:
            if current is not None:
                yield current, events
            current, events = (kb, session), []
        events.append((kind, query or "", bool(empty)))
    if current is not None:
        yield current, events
