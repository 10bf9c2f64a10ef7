"""Pull Freshdesk Solutions from its API as the pages of a ``freshdesk`` export.

``GET /api/v2/solutions/categories``, per category ``/categories/{id}/folders``, per folder
``/folders/{id}/articles?per_page=100`` (pages linked by the ``Link: <...>; rel="next"`` header). Each
category is written as one file, ``[category with its "folders", each with its "articles"]``, the nested
shape ``indexing/sources/freshdesk.py`` reads: the category's name -> product, the folder's ``visibility``
-> audience (public only for 1, all users), ``status`` 2 published.

Auth: the API key as the basic-auth user, ``X`` as the password (Freshdesk's documented form).
Not pulled: translations (``/solutions/articles/{id}/{language}``) and subfolders (the newer
``/folders/{id}/subfolders``): their articles are not indexed.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

from indexing.sync.http import Client, SyncError, account_url, follow, next_link


def client(domain: str, api_key: str, base_url: str | None) -> Client:
    url = account_url(base_url, domain, "freshdesk.com", "--domain")
    auth = base64.b64encode(f"{api_key}:X".encode()).decode()
    return Client(url, {"Authorization": f"Basic {auth}"}, "Freshdesk")


def _list(api: Client, link: str) -> list[dict]:
    """Every object of a listing, page after page."""
    found: list[dict] = []
    for data, where in follow(api, link, lambda body, headers, where: next_link(headers), link):
        if not isinstance(data, list) or not all(isinstance(item, dict) and "id" in item for item in data):
            raise SyncError(f"{where}: not a list of Freshdesk objects with ids")
        found += data
    return found


def _id(item: dict) -> int:
    if isinstance(item["id"], bool) or not isinstance(item["id"], int):
        raise SyncError(f"a Freshdesk id is not a number: {item['id']!r}")
    return item["id"]


def pages(api: Client) -> Iterator[tuple[str, object]]:
    for category in _list(api, "/api/v2/solutions/categories"):
        folders = _list(api, f"/api/v2/solutions/categories/{_id(category)}/folders")
        for folder in folders:
            folder["articles"] = _list(api, f"/api/v2/solutions/folders/{_id(folder)}/articles?per_page=100")
        yield f"category-{_id(category)}.json", [{**category, "folders": folders}]


def stamps(page: object) -> dict[str, str]:
    """Article id -> ``updated_at`` of a page's articles."""
    return {str(a.get("id")): str(a.get("updated_at"))
            for category in (page if isinstance(page, list) else ()) if isinstance(category, dict)
            for folder in category.get("folders") or () if isinstance(folder, dict)
            for a in folder.get("articles") or () if isinstance(a, dict)}
