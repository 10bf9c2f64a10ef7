"""``markdown``: a folder of Markdown pages (Docusaurus, MkDocs, Jekyll, Hugo), and the ``.html`` pages of
such a site: with front matter, a page whose body is HTML (Jekyll); without, a static page read whole
(``indexing/sources/html.py``). The admin API's changes (``overlay``) apply over the folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from indexing.frontmatter import _OPEN
from indexing.markdown import parse_article
from indexing.sources.common import read_bytes
from indexing.sources.html import parse_html_page
from kbsuggest.domain import Article
from kbsuggest.errors import ArticleError, ConfigError
from kbsuggest.sources import NotAnArticle, Overlay, Skipped, SourceOptions
from kbsuggest.sources.detect import HTML_SUFFIXES, MARKDOWN_SUFFIXES, files_under


def _has_front_matter(data: bytes) -> bool:
    return bool(_OPEN.match(data[:64].decode("utf-8", "replace").lstrip("\ufeff").lstrip()))


def _parse(path: Path, relative: str, options: SourceOptions) -> Article:
    data = read_bytes(path, relative)
    if relative.lower().endswith(HTML_SUFFIXES) and not _has_front_matter(data):
        return parse_html_page(data, relative, options)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArticleError(relative, f"not UTF-8 text (byte {exc.start})") from None
    return parse_markdown(text, relative, options)


def parse_markdown(text: str, relative: str, options: SourceOptions) -> Article:
    return parse_article(text, relative, default_locale=options.default_locale, base_url=options.base_url,
                         require_audience=options.require_audience)


class MarkdownSource:
    name = "markdown"

    def read(self, path: Path, options: SourceOptions, overlay: Overlay | None = None) -> Iterator[Article | Skipped]:
        path, overlay = Path(path), dict(overlay or {})
        if not path.is_dir():
            raise ConfigError(f"{str(path)!r} is not a directory of Markdown articles")
        files = {p.relative_to(path).as_posix(): p for p in files_under(path, MARKDOWN_SUFFIXES + HTML_SUFFIXES)}
        for relative in sorted(set(files) | {r for r, text in overlay.items() if text is not None}):
            try:
                if relative in overlay:
                    if overlay[relative] is None:
                        continue
                    yield parse_markdown(overlay[relative], relative, options)
                else:
                    yield _parse(files[relative], relative, options)
            except ArticleError as exc:
                yield Skipped(exc.path, exc.reason, isinstance(exc, NotAnArticle))


SOURCE = MarkdownSource()
