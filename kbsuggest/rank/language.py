"""The languages of a KB, as lexical matching needs them: which words carry no topic, and word stems.

A municipal KB in German was ranked with English stop words only: "Welche", "kann", "ich" counted as
topic words of "Welche Unterlagen kann ich ...", and "Konsequenzen" did not match "Konsequenz". So
each KB gets, from the locales of its articles:
- **stop words**: the project's English list (``tokens.STOP_WORDS``: function words and support-request
  boilerplate) plus the ``stop-words`` package's list for each other language (BSD; 33 languages);
- **stems**: each word the KB holds is stemmed once, when the index loads, by the Snowball stemmer of
  the language of the first article using it (``PyStemmer``, in C: 1.5 µs a word; the pure-Python
  ``snowballstemmer`` took 40 µs, 0.5 s more to load a KB of 12,000 distinct words). The lexical index
  matches stems; the vocabulary (completion, typo repair) keeps the words as written. A language
  Snowball lacks keeps its words as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache

from kbsuggest.rank.tokens import STOP_WORDS, fold


def language_of(locale: str) -> str:
    """``de-DE`` -> ``de``."""
    return locale.replace("_", "-").split("-", 1)[0].lower()


@lru_cache(maxsize=64)
def stop_words_of(language: str) -> frozenset[str]:
    if language == "en":
        return STOP_WORDS
    from stop_words import LANGUAGE_MAPPING, get_stop_words
    if language not in LANGUAGE_MAPPING:
        return frozenset()
    return frozenset(fold(w) for w in get_stop_words(language))


@lru_cache(maxsize=64)
def snowball_name(language: str) -> str | None:
    """The Snowball algorithm of ``language`` (``de`` -> ``german``), or None when Snowball has none."""
    import Stemmer
    from stop_words import LANGUAGE_MAPPING
    name = LANGUAGE_MAPPING.get(language)
    return name if name in Stemmer.algorithms() else None


def stemmer_of(language: str) -> Callable[[list[str]], list[str]] | None:
    """A new stemmer of ``language`` (words -> stems): PyStemmer's objects are not thread-safe, and KBs load
    in several threads (kbsuggest/kbs/registry.py), so none is shared."""
    import Stemmer
    name = snowball_name(language)
    return Stemmer.Stemmer(name).stemWords if name else None


def support(locales: Iterable[str]) -> list[str]:
    """What lexical matching knows of each language of ``locales`` (``kbsuggest info``): "de: stop words, stems"."""
    out = []
    for language in sorted({language_of(locale) for locale in locales}):
        known = [what for what, has in (("stop words", stop_words_of(language)), ("stems", snowball_name(language)))
                 if has]
        out.append(f"{language or '-'}: {', '.join(known) if known else 'English stop words only, no stems'}")
    return out


def kb_stop_words(locales: Iterable[str]) -> frozenset[str]:
    """Stop words of a KB: English (the project's list) and those of each of its articles' languages."""
    return STOP_WORDS.union(*(stop_words_of(language_of(locale)) for locale in set(locales)))


def stems(words_by_article: Iterable[tuple[str, Iterable[str]]]) -> dict[str, str]:
    """word -> stem, for every word of (locale, words) per article; the first article using a word decides."""
    out: dict[str, str] = {}
    stemmers: dict[str, Callable[[list[str]], list[str]] | None] = {}
    for locale, words in words_by_article:
        new = [w for w in dict.fromkeys(words) if w not in out]
        language = language_of(locale)
        if language not in stemmers:
            stemmers[language] = stemmer_of(language)
        stem = stemmers[language]
        out.update(zip(new, stem(new) if stem else new))
    return out
