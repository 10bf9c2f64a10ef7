"""``freshdesk``: Freshdesk Solutions articles as the API returns them (``GET /api/v2/solutions/folders/
{id}/articles``: a list of articles), or nested as categories -> ``folders`` -> ``articles`` (each
folder as ``GET /api/v2/solutions/categories/{id}/folders`` gives it, with its articles added).

- ``description`` (HTML) -> sections; ``tags``; ``updated_at``; the category's ``name`` -> product.
- ``status`` 2 (published) is indexed; 1 (draft) is left out (``draft``).
- Audience fails closed: public only when the folder's ``visibility`` (or the article's
  ``folder_visibility``) is 1, all users; logged-in users, agents, companies, segments -> internal, and so
  is an article whose folder visibility the export does not say.
- The API gives no public url: url = ``base_url``/id (the portal's ``/support/solutions/articles``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from indexing.sources.common import record_article, tag_list, text
from indexing.sources.exports import read_records
from kbsuggest.domain import Article
from kbsuggest.errors import ArticleError
from kbsuggest.sources import NotAnArticle, Overlay, Skipped, SourceOptions

PUBLISHED, ALL_USERS = 2, 1


def parse_article(record: dict, where: str, options: SourceOptions, folder: dict, category: dict) -> Article:
    if record.get("status") != PUBLISHED:
        raise NotAnArticle(where, "draft" if record.get("status") == 1 else f"status {record.get('status')!r}, not published")
    visibility = folder.get("visibility", record.get("folder_visibility"))
    warnings = () if visibility is not None else (
        "the export does not say the folder's visibility: indexed as internal",)
    return record_article(
        where=where, article_id=text(record.get("id"), "id", where), title=text(record.get("title"), "title", where),
        body=text(record.get("description"), "description", where), url="", locale="",
        audience="public" if visibility == ALL_USERS else "internal", options=options,
        product=text(category.get("name"), "category name", where), tags=tag_list(record.get("tags"), where),
        updated=text(record.get("updated_at"), "updated_at", where), warnings=warnings)


def parse_record(record: object, where: str, options: SourceOptions, sideloads: dict,
                 folder: dict | None = None, category: dict | None = None) -> Iterator[Article | Skipped]:
    """An article, or a folder (a category) with its articles (folders) inside."""
    if not isinstance(record, dict):
        raise ArticleError(where, "not a JSON object")
    for key, inner in (("folders", "category"), ("articles", "folder")):
        if isinstance(record.get(key), list):
            context = {"folder": folder or {}, "category": category or {}, inner: record}
            for i, item in enumerate(record[key], 1):
                try:
                    yield from parse_record(item, f"{where}/{i}", options, sideloads, **context)
                except ArticleError as exc:
                    yield Skipped(exc.path, exc.reason, isinstance(exc, NotAnArticle))
            return
    yield parse_article(record, where, options, folder or {}, category or {})


class FreshdeskSource:
    name = "freshdesk"

    def read(self, path: Path, options: SourceOptions, overlay: Overlay | None = None) -> Iterator[Article | Skipped]:
        return read_records(path, options, overlay, ("articles", "folders", "categories"), parse_record)


SOURCE = FreshdeskSource()
