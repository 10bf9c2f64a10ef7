"""YAML front matter: found tolerantly, read strictly, and an audience that fails closed.

Tolerant where that is safe: a UTF-8 BOM and blank lines before the opening ``---`` are skipped, and
keys match whatever their case and surrounding spaces (``Audience :``). Strict where it is not: front
matter that is opened but never closed, is not a mapping, repeats a key, uses YAML anchors or aliases,
or is over ``MAX_FRONT_MATTER_BYTES`` is an error for that file, never "no front matter, public". An
unknown key is a warning, and an article with a warning and no ``audience`` is internal: the unknown key
may be a misspelt audience (``audiance: internal``).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections import Counter
from dataclasses import dataclass, field

import yaml

from kbsuggest.domain import AUDIENCES

ARTICLE_KEYS = ("id", "title", "url", "locale", "audience", "product", "tags", "updated")
# Keys that Docusaurus, MkDocs (Material), Jekyll and Hugo pages carry and that say nothing kbsuggest uses:
# accepted silently, so a docs folder indexes without warnings. Anything else is reported.
SITE_KEYS = frozenset({
    # Docusaurus
    "slug", "description", "keywords", "image", "sidebar_position", "sidebar_label", "sidebar_class_name",
    "sidebar_custom_props", "displayed_sidebar", "hide_title", "hide_table_of_contents", "toc_min_heading_level",
    "toc_max_heading_level", "pagination_label", "pagination_next", "pagination_prev", "parse_number_prefixes",
    "custom_edit_url", "last_update", "draft", "unlisted", "sidebar",
    # MkDocs / Material
    "template", "hide", "status", "subtitle", "icon", "search", "social", "comments", "authors",
    # Jekyll
    "layout", "permalink", "published", "categories", "category", "excerpt", "lang", "author", "date",
    "redirect_from", "redirect_to", "nav_order", "parent", "grand_parent", "has_children", "nav_exclude",
    # Hugo
    "weight", "aliases", "summary", "type", "linktitle", "menu", "lastmod", "publishdate", "expirydate",
    "series", "toc", "math", "cover",
})
MAX_FRONT_MATTER_BYTES = 64 * 1024  # ample for any real page; bounds YAML parsing of a hostile file
# Longest value of each field, in characters: a title is a line of text, a locale a BCP 47 tag (RFC 5646
# asks for 35), tags are words. The id is bounded in UTF-8 bytes, by kbsuggest.domain.
MAX_CHARS = {"title": 300, "url": 2048, "locale": 35, "product": 100, "updated": 64, "tag": 100}
MAX_TAGS = 50
MAX_DEPTH = 10  # nested lists/mappings; deeper YAML would exhaust the recursion of PyYAML's constructor
MAX_KEY_WARNINGS = 10  # more unknown keys are summed up in one warning

_OPEN = re.compile(r"---[ \t]*(?:\r?\n|\Z)")
_CLOSE = re.compile(r"^---[ \t]*\r?$\n?", re.M)  # at the start of a line: an indented --- is YAML text
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 12x faster on front matter, same result


@dataclass
class FrontMatter:
    meta: dict[str, object]  # the article keys present (names lowercased) -> their YAML values
    body: str  # the Markdown after the front matter
    unknown: list[object] = field(default_factory=list)  # keys that are neither article nor site keys
    warnings: list[str] = field(default_factory=list)
    site: dict[str, object] = field(default_factory=dict)  # the site keys present (slug, permalink, draft...)


def shown(value: object, limit: int = 60) -> str:
    """repr of a value for a message, cut to ``limit`` characters (values may be hostile)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def key_name(key: object) -> str:
    return str(key).strip().lower()


class _Loader(_YAML_LOADER):  # type: ignore[misc, valid-type]
    def construct_document(self, node):  # a repeated key would silently keep the last value
        if isinstance(node, yaml.MappingNode):
            names = Counter(key_name(k.value) for k, _ in node.value if isinstance(k, yaml.ScalarNode))
            repeated = sorted(name for name, n in names.items() if n > 1)
            if repeated:
                raise ValueError(f"front matter gives {shown(repeated[0])} more than once")
        return super().construct_document(node)


def _load_yaml(source: str, first_line: int) -> object:
    try:
        depth = 0
        for event in yaml.parse(source, Loader=_YAML_LOADER):  # before anything is built from them
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise ValueError("front matter uses YAML anchors or aliases (&name, *name); write the values out")
            depth += isinstance(event, yaml.CollectionStartEvent) - isinstance(event, yaml.CollectionEndEvent)
            if depth > MAX_DEPTH:
                raise ValueError(f"front matter nests lists or mappings more than {MAX_DEPTH} deep")
        return yaml.load(source, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + first_line})" if mark else ""
        raise ValueError(f"invalid YAML front matter{where}: {getattr(exc, 'problem', exc)}") from None


def read_front_matter(text: str) -> FrontMatter:
    """Split ``text`` into its front matter and body; ValueError for front matter that cannot be trusted."""
    text = text.lstrip("\ufeff")
    start = len(text) - len(text.lstrip())  # blank lines and spaces before the opening ---
    opening = _OPEN.match(text, start)
    if not opening:
        return FrontMatter({}, text)
    first_line = text.count("\n", 0, start) + 1
    closing = _CLOSE.search(text, opening.end())
    if not closing:
        raise ValueError(f"front matter opened by '---' on line {first_line} is never closed by a '---' line")
    source = text[opening.end():closing.start()]
    if len(source.encode("utf-8")) > MAX_FRONT_MATTER_BYTES:
        raise ValueError(f"front matter is over {MAX_FRONT_MATTER_BYTES // 1024} KiB")
    meta = _load_yaml(source, first_line + 1)
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ValueError("front matter is not a mapping of keys to values")
    known: dict[str, object] = {}
    site: dict[str, object] = {}
    unknown: list[object] = []
    for key, value in meta.items():
        name = key_name(key)
        if name in ARTICLE_KEYS:
            known[name] = value
        elif name in SITE_KEYS:
            site[name] = value
        else:
            unknown.append(key)
    return FrontMatter(known, text[closing.end():], unknown, _unknown_key_warnings(unknown), site)


def _unknown_key_warnings(keys: list[object]) -> list[str]:
    warnings = []
    for key in keys[:MAX_KEY_WARNINGS]:
        near = difflib.get_close_matches(key_name(key), (*ARTICLE_KEYS, *SITE_KEYS), n=1, cutoff=0.75)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        warnings.append(f"unknown front-matter key {shown(key)}{hint}, ignored")
    if len(keys) > MAX_KEY_WARNINGS:
        warnings.append(f"and {len(keys) - MAX_KEY_WARNINGS} more unknown front-matter keys, ignored")
    return warnings


def audience_of(front: FrontMatter, require_audience: bool) -> str:
    """The article's audience; an article that may have meant internal gets internal and a warning."""
    if "audience" in front.meta:
        value = front.meta["audience"]
        audience = value.strip().lower() if isinstance(value, str) else None
        if audience not in AUDIENCES:
            raise ValueError(f"'audience' must be one of {', '.join(AUDIENCES)}, "
                             f"got {shown(value.strip() if isinstance(value, str) else value)}")
        return audience
    if front.unknown:
        reason = f"the unknown key {shown(front.unknown[0])} may be meant as one"
    elif require_audience:
        reason = "this KB requires one"
    else:
        return "public"
    front.warnings.append(f"no 'audience' and {reason}: indexed as internal until the front matter says "
                          f"'audience: public' or 'audience: internal'")
    return "internal"


def bounded(name: str, text: str) -> str:
    if len(text) > MAX_CHARS.get(name, len(text)):
        raise ValueError(f"{name!r} is {len(text):,} characters; the most is {MAX_CHARS[name]}")
    return text


def text_field(front: FrontMatter, name: str) -> str:
    """A text value: a string, number or date (YAML reads ``updated: 2026-01-10`` as a date); "" when absent."""
    return _text(front.meta.get(name), name)


def _text(value: object, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float, dt.date)):
        raise ValueError(f"{name!r} must be text, got {shown(value)} (quote it if it is meant as text)")
    return bounded(name, value.isoformat() if isinstance(value, dt.date) else str(value).strip())


def tags_field(front: FrontMatter) -> tuple[str, ...]:
    value = front.meta.get("tags")
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        raise ValueError(f"'tags' must be a list or a comma-separated string, got {shown(value)}")
    if len(value) > MAX_TAGS:
        raise ValueError(f"'tags' has {len(value)} tags; the most is {MAX_TAGS}")
    return tuple(tag for tag in (_text(item, "tag") for item in value) if tag)
