"""Headings and lines of text -> an article's sections: the one place anchors and heading paths are made.

Every source (Markdown tokens, an HTML page, a help-centre body) feeds a ``SectionBuilder`` the headings
and text lines it meets in reading order. Anchors are as GitHub/Docusaurus write them (github-slugger),
unless the page gives its own (an ``id`` attribute, Docusaurus' ``{#custom-id}``); a repeated anchor
gets ``-1``, ``-2``... The H1 that repeats the title is not a section of its own.
"""

from __future__ import annotations

import re

from kbsuggest.domain import Section

_SLUG_DROP = re.compile(r"[^\w\- ]", re.UNICODE)
_SPACES = re.compile(r"\s+")


def slugify(text: str) -> str:
    """github-slugger's rule: lowercase, drop punctuation (keep letters, digits, _ and -), spaces -> -."""
    return _SLUG_DROP.sub("", text.strip().lower()).replace(" ", "-")


def squash(text: str) -> str:
    """Runs of whitespace as one space, trimmed."""
    return _SPACES.sub(" ", text).strip()


class SectionBuilder:
    def __init__(self, title: str) -> None:
        self.title = title
        self._sections: list[Section] = []
        self._used: dict[str, int] = {}
        self._path: list[tuple[int, str]] = []  # (level, heading) of the open headings
        self._heading, self._anchor, self._lines = "", "", []

    def _close(self) -> None:
        text = "\n".join(line for line in self._lines if line)
        if self._heading or text:
            self._sections.append(Section(self._heading, self._anchor, tuple(h for _, h in self._path), text))

    def heading(self, level: int, text: str, anchor: str = "") -> None:
        text = squash(text)
        if not text:
            return
        if level == 1 and not self._sections and not any(self._lines) and text == self.title:
            return
        self._close()
        while self._path and self._path[-1][0] >= level:
            self._path.pop()
        self._path.append((level, text))
        base = anchor = anchor or slugify(text)
        while anchor in self._used:  # github-slugger: "a", "a", "a 1" -> a, a-1, a-1-1 (never a repeat)
            self._used[base] += 1
            anchor = f"{base}-{self._used[base]}"
        self._used[anchor] = 0
        self._heading, self._anchor, self._lines = text, anchor, []

    def line(self, text: str) -> None:
        if text:
            self._lines.append(text)

    @property
    def has_text(self) -> bool:
        return any(self._lines) or any(s.text for s in self._sections)

    def sections(self) -> list[Section]:
        self._close()
        self._lines = []
        done, self._sections = self._sections, []
        return done
