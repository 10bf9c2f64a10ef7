"""HTML -> headings and lines of text, with their structure: the reader of every HTML a source holds.

lxml (libxml2's HTML parser, the HTML of help-centre exports and crawled pages as browsers see it; its
XML parser reads Confluence's storage format, ``indexing/sources/confluence.py``). Headings become
sections; paragraphs, list items and table rows become lines (a row's cells joined by `` | ``); code
keeps its text. Scripts, styles, images, media, form controls, hidden elements and heading permalinks
(``¶``, ``#``) are dropped. Unknown elements (JSX components: ``<Tabs>``, ``<TabItem>``, admonitions)
keep their children's text. On a whole page (``page=True``) navigation, banners and footers go too.
"""

from __future__ import annotations

from lxml import etree, html

from indexing.sections import squash

DROP = frozenset({
    "script", "style", "noscript", "template", "svg", "math", "canvas", "iframe", "object", "embed", "img",
    "picture", "video", "audio", "source", "track", "map", "head", "title", "meta", "link", "base", "input",
    "select", "option", "textarea",
})
CHROME = frozenset({"nav", "header", "footer", "aside"})  # page furniture, dropped on whole pages
CHROME_ROLES = frozenset({"navigation", "banner", "contentinfo", "search", "complementary"})
PERMALINK_CLASSES = frozenset({"headerlink", "hash-link", "anchor", "anchorjs-link", "heading-anchor"})
BLOCKS = frozenset({
    "p", "div", "section", "article", "main", "li", "dt", "dd", "blockquote", "ul", "ol", "dl", "figure",
    "figcaption", "details", "summary", "hr", "address", "fieldset", "legend", "caption", "center", "form",
    "table", "thead", "tbody", "tfoot", "body", "html", "header", "footer", "aside", "nav", "br",
})
HEADINGS = {f"h{n}": n for n in range(1, 7)}
INLINE_MACROS = frozenset({"ac:link", "ac:plain-text-link-body", "ac:link-body", "ac:emoticon", "ri:page"})
INVISIBLE = "\u200b\u200c\u200d\ufeff"
_PARSER = html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True)


class Lines:
    """A sink for ``walk`` that keeps plain lines (a ``SectionBuilder`` is the other)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def heading(self, level: int, text: str, anchor: str = "") -> None:
        self.line(text)

    def line(self, text: str) -> None:
        if text:
            self.lines.append(text)


PREFIXED = frozenset({"ac", "ri"})  # Confluence's storage-format namespaces, named by their prefix


def name_of(element) -> str:
    """The element's local name, lower case ('ac:link' in Confluence's namespaces; '' for comments)."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    name = etree.QName(tag)
    return (f"{name.namespace}:{name.localname}" if name.namespace in PREFIXED else name.localname).lower()


def _hidden(element) -> bool:
    style = (element.get("style") or "").replace(" ", "").lower()
    return element.get("hidden") is not None or "display:none" in style or element.get("aria-hidden") == "true"


def _permalink(element) -> bool:
    return name_of(element) == "a" and bool(PERMALINK_CLASSES & set((element.get("class") or "").split()))


def chrome(element) -> bool:
    return name_of(element) in CHROME or element.get("role") in CHROME_ROLES


def clean(text: str | None) -> str:
    return (text or "").translate({ord(c): None for c in INVISIBLE})


def inline_text(element, page: bool = False) -> str:
    """All the text inside ``element`` (dropped elements left out), whitespace squashed."""
    parts: list[str] = []

    def collect(node) -> None:
        for child in node:
            if name_of(child) and not _skipped(child, page):
                parts.append(clean(child.text))
                collect(child)
                parts.append(" " if name_of(child) in BLOCKS or name_of(child) in ("td", "th") else "")
            parts.append(clean(child.tail))

    parts.append(clean(element.text))
    collect(element)
    return squash("".join(parts))


def _skipped(element, page: bool) -> bool:
    return (name_of(element) in DROP or _hidden(element) or _permalink(element)
            or (page and chrome(element)))


def anchor_of(heading) -> str:
    """The id a page gives a heading: its own, or that of an anchor inside it (``<a name=...>``)."""
    if heading.get("id"):
        return heading.get("id").strip()
    for a in heading.iter("a"):
        if a.get("id") or a.get("name"):
            return (a.get("id") or a.get("name")).strip()
    return ""


class _Walker:
    def __init__(self, sink, page: bool, drop: frozenset[str], pre: frozenset[str]) -> None:
        self.sink, self.page, self.buffer, self.drop, self.pre = sink, page, [], drop, pre

    def flush(self) -> None:
        self.sink.line(squash("".join(self.buffer)))
        self.buffer = []

    def walk(self, element) -> None:
        name = name_of(element)
        if not name or name in self.drop or _skipped(element, self.page):
            return
        if name in HEADINGS:
            self.flush()
            self.sink.heading(HEADINGS[name], inline_text(element, self.page), anchor_of(element))
        elif name == "pre" or name in self.pre:
            self.flush()
            self.sink.line(clean("".join(element.itertext())).strip())
        elif name == "tr":
            self.flush()
            cells = (inline_text(cell, self.page) for cell in element if name_of(cell) in ("td", "th"))
            self.sink.line(" | ".join(cell for cell in cells if cell))
        else:
            block = name in BLOCKS or (":" in name and name not in INLINE_MACROS)  # a Confluence macro is a block
            if block:
                self.flush()
            self.buffer.append(clean(element.text))
            for child in element:
                self.walk(child)
                self.buffer.append(clean(child.tail))
            if block:
                self.flush()


def walk(root, sink, page: bool = False, drop: frozenset[str] = frozenset(), pre: frozenset[str] = frozenset()) -> None:
    """Feed ``sink`` the headings and lines under ``root`` in reading order; ``drop`` and ``pre`` name more
    elements to leave out, and to keep as code (a dialect's: Confluence's macros)."""
    walker = _Walker(sink, page, drop, pre)
    walker.walk(root)
    walker.flush()


def parse_fragment(text: str):
    """An HTML fragment (an article body, a raw HTML block) as one element; None when it holds nothing."""
    if not text.strip():
        return None
    try:
        return html.fragment_fromstring(text.encode("utf-8"), create_parent="div", parser=_PARSER)
    except (etree.ParserError, ValueError):
        return None


def parse_page(data: bytes):
    """A whole HTML page (its bytes: the parser honours the page's charset); None when it holds nothing."""
    try:
        return html.document_fromstring(data, parser=html.HTMLParser(remove_comments=True, remove_pis=True,
                                                                     no_network=True))
    except (etree.ParserError, ValueError):
        return None


def html_to_text(text: str) -> str:
    """Plain text of an HTML fragment, a line per block (ticket bodies from help-desk APIs)."""
    root = parse_fragment(text)
    if root is None:
        return ""
    lines = Lines()
    walk(root, lines)
    return "\n".join(lines.lines)
