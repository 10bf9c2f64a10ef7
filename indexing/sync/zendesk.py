"""Pull Zendesk Guide's articles from the Help Center API as the pages of a ``zendesk`` export.

``GET /api/v2/help_center/locales.json`` (unless locales are given), then per locale
``GET /api/v2/help_center/{locale}/articles.json?include=sections,categories&page[size]=100``, following
the cursor pagination (``meta.has_more`` + ``links.next``) or the older offset one (``next_page``). Each
page is kept as the API returned it, so ``indexing/sources/zendesk.py`` reads it exactly as it reads an
export saved by hand (drafts skipped, a user segment -> internal, fail closed).

Auth: with an email, an API token (``{email}/token:{token}``, basic); without, an OAuth access token
(bearer).
"""

from __future__ import annotations

import base64
import re
import urllib.parse
from collections.abc import Iterator

from indexing.sync.http import Client, SyncError, account_url, follow

PAGE_SIZE = 100
LOCALE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}$")  # goes into a URL path and a folder name


def client(subdomain: str, token: str, email: str | None, base_url: str | None) -> Client:
    url = account_url(base_url, subdomain, "zendesk.com", "--subdomain")
    auth = (f"Basic {base64.b64encode(f'{email}/token:{token}'.encode()).decode()}" if email
            else f"Bearer {token}")
    return Client(url, {"Authorization": auth}, "Zendesk")


def check_locale(locale: object) -> str:
    if not isinstance(locale, str) or not LOCALE.match(locale):
        raise SyncError(f"locale {locale!r} is not a Help Center locale (such as en-us or de)")
    return locale.lower()


def locales(api: Client) -> list[str]:
    data, _ = api.get("/api/v2/help_center/locales.json")
    found = data.get("locales") if isinstance(data, dict) else None
    if not isinstance(found, list) or not found:
        raise SyncError("GET /api/v2/help_center/locales.json: no 'locales' list in the answer; pass --locale")
    return [check_locale(locale) for locale in found]


def _next(page: dict, headers: dict, where: str) -> str | None:
    meta, links = page.get("meta"), page.get("links")
    if isinstance(meta, dict) and "has_more" in meta:  # cursor pagination
        if not meta["has_more"]:
            return None
        link = links.get("next") if isinstance(links, dict) else None
        if not isinstance(link, str) or not link:
            raise SyncError(f"{where}: meta.has_more is true but links.next gives no address")
        return link
    link = page.get("next_page")
    if link is not None and not isinstance(link, str):
        raise SyncError(f"{where}: next_page is not an address")
    return link or None


def pages(api: Client, wanted: list[str]) -> Iterator[tuple[str, dict]]:
    """(file name, page) of every page of every locale's articles, in order."""
    for locale in [check_locale(locale) for locale in wanted] or locales(api):
        query = urllib.parse.urlencode({"include": "sections,categories", "page[size]": PAGE_SIZE})
        link = f"/api/v2/help_center/{locale}/articles.json?{query}"
        for number, (page, where) in enumerate(follow(api, link, _next, f"the {locale} articles"), 1):
            if not isinstance(page, dict) or not isinstance(page.get("articles"), list):
                raise SyncError(f"{where}: no 'articles' list in the answer (is this the Help Center API?)")
            yield f"{locale}/page-{number:04d}.json", page


def stamps(page: object) -> dict[str, str]:
    """``id/locale`` -> ``updated_at`` of a page's articles (what the sync compares with the last pull)."""
    articles = page.get("articles") if isinstance(page, dict) else None
    return {f"{a.get('id')}/{str(a.get('locale') or '').lower()}": str(a.get("updated_at"))
            for a in articles or () if isinstance(a, dict)}
