"""The one tokenizer of ranking: words as the KB vocabulary, lexical matching and query understanding see them."""

from __future__ import annotations

import re
import unicodedata

TOKEN = re.compile(r"[^\W_]+", re.UNICODE)

# English function words and support-request boilerplate: they carry no topic.
STOP_WORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below between both
but by can cannot could did do does doing don down during each few for from further had has have having he her
here hers herself him himself his how i if in into is it its itself just let me more most my myself no nor not
now of off on once only or other our ours ourselves out over own same she should so some such than that the
their theirs them themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself yourselves im ive dont cant
doesnt isnt wont didnt please hi hello thanks thank help get got use using want need trying try way
""".split())


def fold(text: str) -> str:
    """Lowercase without accents, so 'Zurücksetzen' and 'zurucksetzen' are one word."""
    if text.isascii():  # nothing to decompose (most text): the same answer, several times faster
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokens(text: str) -> list[str]:
    return TOKEN.findall(fold(text))
