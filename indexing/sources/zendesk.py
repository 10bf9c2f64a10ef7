"""``zendesk``: Zendesk Guide articles as the Help Center API returns them (``GET /api/v2/help_center/
articles.json``, or ``/{locale}/articles.json``; pages of ``{"articles": [...], "next_page": ...}``, with
``?include=sections,categories`` sideloaded when present).

- ``body`` (HTML) -> sections; ``html_url`` -> url; ``locale``; ``updated_at``; ``label_names`` -> tags,
  and the sideloaded section's name too; the sideloaded category's name -> product.
- ``draft: true`` -> left out (``draft``).
- Audience fails closed: public only when ``user_segment_id`` is present and null (visible to everyone) and
  ``user_segment_ids`` (Enterprise: several segments) names none; any segment (signed-in users, agents, a
  group) -> internal, and so is a record that does not say.
- A translation in another locale than the article's ``source_locale`` gets the id ``<id>-<locale>``; its
  section and category names are the sideloaded ones of its locale (several locales' pages in one export).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from indexing.sources.common import record_article, tag_list, text
from indexing.sources.exports import read_records
from kbsuggest.domain import Article
from kbsuggest.errors import ArticleError
from kbsuggest.sources import NotAnArticle, Overlay, Skipped, SourceOptions


def audience_of(record: dict) -> tuple[str, tuple[str, ...]]:
    if "user_segment_id" not in record:
        return "internal", ("the record has no user_segment_id: indexed as internal (it may be restricted)",)
    # Enterprise plans restrict an article to several segments with ``user_segment_ids`` instead (its
    # ``user_segment_id`` then null): any segment there is a restriction too.
    segments = record.get("user_segment_ids")
    return ("public" if record["user_segment_id"] is None and segments in (None, []) else "internal"), ()


def article_id(record: dict, where: str) -> str:
    number = text(record.get("id"), "id", where)
    if not number:
        raise ArticleError(where, "the record has no id")
    locale, source = text(record.get("locale"), "locale", where), text(record.get("source_locale"), "source_locale", where)
    return f"{number}-{locale}" if locale and source and locale.lower() != source.lower() else number


def parse_record(record: object, where: str, options: SourceOptions, sideloads: dict) -> Article:
    if not isinstance(record, dict):
        raise ArticleError(where, "not a JSON object")
    if record.get("draft") is True:
        raise NotAnArticle(where, "draft")
    audience, warnings = audience_of(record)
    locale = str(record.get("locale") or "").lower()

    def sideloaded(name: str, key: object) -> dict:  # in the article's locale when the export has several
        table = sideloads.get(name, {})
        return table.get((locale, key)) or table.get(key) or {}

    section = sideloaded("sections", record.get("section_id"))
    category = sideloaded("categories", section.get("category_id"))
    tags = tag_list(record.get("label_names"), where) + tag_list([section["name"]] if section.get("name") else [], where)
    return record_article(
        where=where, article_id=article_id(record, where),
        title=text(record.get("title") or record.get("name"), "title", where),
        body=text(record.get("body"), "body", where), url=text(record.get("html_url"), "html_url", where),
        locale=text(record.get("locale"), "locale", where), audience=audience, options=options,
        product=text(category.get("name"), "category name", where), tags=tuple(dict.fromkeys(tags)),
        updated=text(record.get("updated_at") or record.get("edited_at"), "updated_at", where), warnings=warnings)


class ZendeskSource:
    name = "zendesk"

    def read(self, path: Path, options: SourceOptions, overlay: Overlay | None = None) -> Iterator[Article | Skipped]:
        return read_records(path, options, overlay, ("articles",),
                            lambda *args: [parse_record(*args)], ("sections", "categories"))


SOURCE = ZendeskSource()
