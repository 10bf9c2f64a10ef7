"""The parsers of the article sources, one module per format of ``kbsuggest.sources.FORMATS`` (the module
is named like the format and exposes ``SOURCE``); loaded when a build needs that format."""

from __future__ import annotations

from importlib import import_module

from kbsuggest.sources import ArticleSource, check_format


def source_for(name: str) -> ArticleSource:
    return import_module(f"indexing.sources.{check_format(name)}").SOURCE
