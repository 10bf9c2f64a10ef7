"""A whole HTML page -> its main content, title, canonical url, locale; and whether it is a redirect.

The main content is the container a docs generator or help centre marks as such (Docusaurus, MkDocs,
Confluence, Jekyll themes, ``<main>``, a single ``<article>``), else the one a readability-style pass
scores highest: the text of its paragraphs, less the share of it that is link text (navigation lists are
all links). Page furniture (nav, header, footer, aside) is left out either way (``htmltext.walk(page=True)``).
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from indexing.htmltext import chrome, inline_text


def _has_class(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


# Most specific first: a generator's content container beats the <main> that also holds its sidebar.
MAIN_XPATHS = (
    f"//*[{_has_class('theme-doc-markdown')}]",  # Docusaurus
    f"//*[{_has_class('md-content__inner')}]", f"//*[{_has_class('md-content')}]",  # MkDocs (Material)
    "//*[@id='main-content']", f"//*[{_has_class('wiki-content')}]",  # Confluence
    f"//*[{_has_class('article-body')}]",  # Zendesk Guide themes
    "//article", "//main", "//*[@role='main']",
    f"//*[{_has_class('post-content')}]", f"//*[{_has_class('page-content')}]", "//*[@id='content']",
)
SCORED = ("p", "pre", "li", "td", "blockquote", "dd")
MIN_SCORED_CHARS = 25


def _inside_chrome(element) -> bool:
    return any(chrome(a) for a in element.iterancestors())


def _scored(doc):
    """Readability's pass, reduced: each paragraph scores its parent, and half of it its grandparent."""
    scores: dict = {}
    for element in doc.iter(*SCORED):
        text = inline_text(element)
        if len(text) < MIN_SCORED_CHARS or _inside_chrome(element):
            continue
        score = 1 + text.count(",") + min(len(text) / 100, 3)
        parent = element.getparent()
        for ancestor, share in ((parent, 1.0), (parent.getparent() if parent is not None else None, 0.5)):
            if ancestor is not None:
                scores[ancestor] = scores.get(ancestor, 0.0) + score * share
    best, best_score = None, 0.0
    for candidate, score in scores.items():
        text = inline_text(candidate)
        links = sum(len(inline_text(a)) for a in candidate.iter("a"))
        score *= 1 - (links / len(text) if text else 1)
        if score > best_score:
            best, best_score = candidate, score
    return best


def main_content(doc):
    """The element holding the page's article."""
    for xpath in MAIN_XPATHS:
        found = [e for e in doc.xpath(xpath) if not _inside_chrome(e)]
        if len(found) == 1 or (found and xpath != "//article"):  # several articles: a listing page
            return found[0]
    best = _scored(doc)
    if best is not None:
        return best
    body = doc.find("body")
    return body if body is not None else doc


def meta(doc, name: str) -> str:
    """The content of ``<meta name=...>`` or ``<meta property=...>`` (case-blind), '' when absent."""
    for element in doc.iter("meta"):
        if name in ((element.get("name") or "").lower(), (element.get("property") or "").lower()):
            return (element.get("content") or "").strip()
    return ""


def page_title(doc, main) -> str:
    h1 = next(main.iter("h1"), None)
    if h1 is not None and (text := inline_text(h1)):
        return text
    title = doc.find(".//title")
    return meta(doc, "og:title") or (inline_text(title) if title is not None else "")


def absolute_url(href: str, base: str) -> str:
    """``href`` made absolute against ``base``; '' unless that gives an http(s) URL."""
    url = urljoin(base, href.strip()) if base else href.strip()
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else ""


def canonical_url(doc, base: str) -> str:
    for link in doc.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
            return absolute_url(link.get("href"), base)
    return absolute_url(meta(doc, "og:url"), base) if meta(doc, "og:url") else ""


def redirect_target(doc) -> str | None:
    """Where a redirect page (``<meta http-equiv="refresh" content="0; url=...">``) sends the reader."""
    for element in doc.iter("meta"):
        if (element.get("http-equiv") or "").lower() == "refresh":
            content = element.get("content") or ""
            _, _, target = content.partition("=")
            return target.strip(" '\"") or content
    return None


def page_locale(doc) -> str:
    root = doc.getroottree().getroot()
    lang = root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang") or ""
    return lang.strip() or meta(doc, "og:locale").replace("_", "-") or meta(doc, "content-language")

