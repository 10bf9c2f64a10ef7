"""Locale fallback, the one rule the server and the widget share: ``de-DE`` -> ``de`` -> the KB's default.

A caller asks for the locale of its page; the KB answers in the first of these it has articles in
(public articles only, for a public caller: a locale of internal runbooks alone is not offered to
customers), else in its default locale. Case and ``_``/``-`` do not matter (``de_de`` is ``de-DE``).
"""

from __future__ import annotations

from collections.abc import Iterable


def _key(locale: str) -> str:
    return locale.replace("_", "-").strip().lower()


class Locales:
    def __init__(self, present: Iterable[str], default: str) -> None:
        self._present = {_key(locale): locale for locale in present if locale}
        self.default = default

    def resolve(self, requested: str | None) -> str | None:
        """The locale to answer ``requested`` in; None when none was asked for (no filter)."""
        if not requested or not requested.strip():
            return None
        key = _key(requested)
        for candidate in (key, key.split("-", 1)[0]):
            if candidate in self._present:
                return self._present[candidate]
        return self.default
