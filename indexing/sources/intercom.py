"""``intercom``: Intercom Articles as the API returns them (``GET /articles``: ``{"type": "list", "data":
[...], "pages": {...}}``).

- ``body`` (HTML) -> sections; ``url``; ``default_locale``; ``updated_at`` (epoch seconds, as ISO).
- ``state`` ``published`` is indexed, ``draft`` left out (``draft``).
- Each published translation in ``translated_content`` is an article of its own, id ``<id>-<locale>``.
- Audience fails closed: a published article with a help-centre ``url`` is public; one without a url is in
  no public help centre: internal, with a warning.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from indexing.sources.common import record_article, tag_list, text
from indexing.sources.exports import read_records
from kbsuggest.domain import Article
from kbsuggest.errors import ArticleError
from kbsuggest.sources import NotAnArticle, Overlay, Skipped, SourceOptions


def _updated(value: object, where: str) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 4_102_444_800:
        return dt.datetime.fromtimestamp(value, dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    return text(value, "updated_at", where)


def _tags(record: dict, where: str) -> tuple[str, ...]:
    tags = record.get("tags")
    items = tags.get("tags") if isinstance(tags, dict) else tags
    names = [t.get("name") if isinstance(t, dict) else t for t in items or []]
    return tag_list(names, where)


def _content(content: dict, article_id: str, locale: str, where: str, options: SourceOptions,
             tags: tuple[str, ...]) -> Article:
    if content.get("state") != "published":
        raise NotAnArticle(where, "draft")
    url = text(content.get("url"), "url", where)
    warnings = () if url else ("published but in no help centre (no url): indexed as internal",)
    return record_article(
        where=where, article_id=article_id, title=text(content.get("title"), "title", where),
        body=text(content.get("body"), "body", where), url=url, locale=locale,
        audience="public" if url else "internal", options=options, tags=tags,
        updated=_updated(content.get("updated_at"), where), warnings=warnings)


def parse_record(record: object, where: str, options: SourceOptions, sideloads: dict) -> Iterator[Article | Skipped]:
    if not isinstance(record, dict):
        raise ArticleError(where, "not a JSON object")
    number = text(record.get("id"), "id", where)
    if not number:
        raise ArticleError(where, "the record has no id")
    default = text(record.get("default_locale"), "default_locale", where)
    tags = _tags(record, where)
    yield _content(record, number, default, where, options, tags)
    translations = record.get("translated_content")
    for locale, content in (translations.items() if isinstance(translations, dict) else ()):
        if isinstance(content, dict) and locale != default and content.get("type") == "article_content":
            try:
                yield _content(content, f"{number}-{locale}", locale, f"{where}/{locale}", options, tags)
            except ArticleError as exc:
                yield Skipped(exc.path, exc.reason, isinstance(exc, NotAnArticle))


class IntercomSource:
    name = "intercom"

    def read(self, path: Path, options: SourceOptions, overlay: Overlay | None = None) -> Iterator[Article | Skipped]:
        return read_records(path, options, overlay, ("data", "articles"), parse_record)


SOURCE = IntercomSource()
