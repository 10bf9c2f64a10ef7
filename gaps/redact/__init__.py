"""PII redaction, applied to every ticket text before it is embedded, clustered, stored in a run or shown.

Placeholders keep the sentence readable ("my card [CARD] was declined") and are the same for every
ticket, so they never split or join clusters by themselves. Order matters: URLs first (their query
strings hold tokens and e-mails), then e-mails, typed credentials ("password is X", ``api_key=...``),
vendors' token formats, IP addresses (before phones: 192.168.10.12 has 10 digits), IBANs, cards with
their CVV and expiry, and phones last (the loosest candidates, confirmed by ``phonenumbers``).

``text`` holds the shapes a regular expression decides alone, ``credentials`` the secrets typed into a
sentence, ``numbers`` what a checksum or a numbering plan decides (``python-stdnum``, ``phonenumbers``:
the ``jobs`` extra).
"""

from __future__ import annotations

import re

from gaps.redact.credentials import redact_credentials
from gaps.redact.numbers import libraries, redact_numbers
from gaps.redact.text import redact_emails, redact_ips, redact_tokens, redact_urls

_DIGIT = re.compile(r"\d")
PLACEHOLDERS = ("[EMAIL]", "[PHONE]", "[CARD]", "[IP]", "[TOKEN]", "[URL]", "[IBAN]", "[SECRET]")


def redact(text: str | None) -> str:
    """``text`` with e-mails, phones, cards, IBANs, IP addresses, tokens and passwords replaced by placeholders."""
    if not text:
        return ""
    libraries()  # fail on the first ticket, not on the first one with a phone number
    text = redact_urls(text)
    text = redact_emails(text)
    text = redact_credentials(text)
    text = redact_tokens(text)
    if not _DIGIT.search(text):  # the rest are numbers
        return text
    text = redact_ips(text)
    return redact_numbers(text)
