"""The zero state of the widget: the few articles most opened or rated helpful lately, for a product.

Popularity is counted in SQL (``store/popular.py``) over the last ``POPULAR_DAYS``; articles the caller
may not see (internal ones for a public caller), of another product or locale are skipped, and when the
events name fewer than ``k`` articles (a new KB has none) the rest follow in a fixed order: by article
id. A store that cannot answer costs the popularity, never the answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from kbsuggest.errors import StoreUnavailableError
from kbsuggest.index.sections import position_of
from kbsuggest.index.snapshot import Snapshot
from kbsuggest.store import Store
from kbsuggest.timestamps import utc_iso

log = logging.getLogger("kbsuggest")
POPULAR_DAYS = 30
SCAN = 200  # most-popular rows read: enough to find k allowed ones unless the top is all filtered out


@dataclass(frozen=True)
class Popular:
    article_id: str
    title: str
    url: str
    sessions: int  # sessions that opened it or rated it helpful in the last POPULAR_DAYS; 0 for the fill


def popular_articles(store: Store | None, snapshot: Snapshot, k: int, now: datetime, *, locale: str | None = None,
                     product: str | None = None, include_internal: bool = False) -> list[Popular]:
    def allowed(article) -> bool:
        return ((include_internal or article.audience == "public") and (not locale or article.locale == locale)
                and (not product or article.product == product))

    counted: list[tuple[str, int]] = []
    if store is not None:
        try:
            counted = store.popular_articles(snapshot.kb, utc_iso(now - timedelta(days=POPULAR_DAYS)), SCAN)
        except StoreUnavailableError as exc:
            log.warning("popular articles of KB %r without events: %s", snapshot.kb, exc)
    found: list[Popular] = []
    for article_id, sessions in counted:
        position = position_of(snapshot, article_id)
        if position is not None and allowed(article := snapshot.articles[position]) and len(found) < k:
            found.append(Popular(article.id, article.title, article.url, sessions))
    seen = {p.article_id for p in found}
    for article in snapshot.articles:
        if len(found) >= k:
            break
        if article.id not in seen and allowed(article):
            found.append(Popular(article.id, article.title, article.url, 0))
    return found
