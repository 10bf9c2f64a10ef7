"""The regex-only redaction of beb47b4 (gaps/redact.py before issue 12), kept verbatim as the baseline that
benchmarks/redaction.py measures the current one against. Not used by the product."""

from __future__ import annotations

import re

_URL = re.compile(r"\bhttps?://[^\s<>\"']+", re.IGNORECASE)
# query parameters and path segments that carry credentials or identities
_URL_SECRET = re.compile(
    r"([?&#;](?:token|access_token|auth|key|api_key|apikey|secret|sig|signature|code|password|pwd|session|sid|"
    r"email|user|reset|otp)=)[^&#\s]+", re.IGNORECASE)
_URL_LONG_SEGMENT = re.compile(r"(?<=/)[A-Za-z0-9_\-.~%]{20,}(?=[/?#]|$)")
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b")
_IPV4 = re.compile(r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b")
# full form (times like 10:30:00 have too few groups) or compressed with "::"
_IPV6 = re.compile(r"\b(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}\b"
                   r"|\b[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4})*::(?:[0-9A-Fa-f]{1,4}:)*[0-9A-Fa-f]{1,4}\b")
_CARD = re.compile(r"\b(?:\d[ \-]?){12,18}\d\b")
_PHONE = re.compile(r"(?<![\w])(?:\+|00)?\(?\d[\d \-().]{6,}\d(?![\w])")
_BEARER = re.compile(r"\b(?:sk|pk|rk|tok|key|ghp|xox[abp])[_\-][A-Za-z0-9_\-]{12,}\b")

PLACEHOLDERS = ("[EMAIL]", "[PHONE]", "[CARD]", "[IP]", "[TOKEN]", "[URL]")


def _card(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group())
    if digits.startswith("00"):  # an international phone prefix, not a card
        return "[PHONE]"
    # Card-like: 13-19 digits, Luhn-valid or not (account numbers identify a person just as well).
    return "[CARD]" if 13 <= len(digits) <= 19 else match.group()


def _phone(match: re.Match) -> str:
    text = match.group()
    digits = re.sub(r"\D", "", text)
    if len(digits) < 7 or re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):  # dates are not phones
        return text
    return "[PHONE]"


def _url(match: re.Match) -> str:
    url = match.group()
    url = _URL_SECRET.sub(lambda m: m.group(1) + "[TOKEN]", url)
    url = _EMAIL.sub("[EMAIL]", url)
    return _URL_LONG_SEGMENT.sub("[TOKEN]", url)


def redact(text: str | None) -> str:
    """``text`` with e-mails, phones, card numbers, IP addresses and tokens replaced by placeholders."""
    if not text:
        return ""
    text = _URL.sub(_url, text)
    text = _EMAIL.sub("[EMAIL]", text)
    text = _BEARER.sub("[TOKEN]", text)
    text = _IPV4.sub("[IP]", text)
    text = _IPV6.sub("[IP]", text)
    text = _CARD.sub(_card, text)
    return _PHONE.sub(_phone, text)
