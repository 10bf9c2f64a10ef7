"""The rules a checksum or a numbering plan decides: IBANs (``stdnum.iban``), cards (``stdnum.luhn``) with the
CVV and expiry next to them, and phone numbers (``phonenumbers``).

A cheap regular expression finds candidates; the library is asked only about those, so a ticket without
a long run of digits costs one regex scan per rule.
"""

from __future__ import annotations

import re
from functools import cache

from kbsuggest.errors import MissingDependencyError

_DIGIT = re.compile(r"\d")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ \-]?[A-Z0-9]{4}){2,8}(?:[ \-]?[A-Z0-9]{1,3})?\b", re.IGNORECASE)

# laid out like a card (4-4-4-4[-3], Amex 4-6-5), unformatted 13-19 digits, or any other spacing
_CARD = re.compile(r"(?<![\w+])(?<!\d[ \-])(?:(?P<layout>\d{4}([ \-])\d{4}\2\d{4}\2\d{4}(?:\2\d{3})?|\d{4}([ \-])\d{6}\3\d{4,5})"
                   r"|\d{13,19}|(?:\d[ \-]?){12,18}\d)(?![\w/])")
_CARD_WORD = re.compile(r"\b(?:card|carte|(?:kredit)?karte|tarjeta|carta|visa|mastercard|amex|maestro|cc)\b|\[CARD\]",
                        re.IGNORECASE)
_CVV = re.compile(r"\b(?:cvv2?|cvc2?|cv2|csc|security code|card code|card verification (?:code|value)|"
                  r"(?:karten)?prüfnummer|cryptogramme)\b(?:\s*(?:code|number|no\.?|nr\.?))?\W{0,3}"
                  r"(?:(?:is|was|ist|est)\s+)?(?P<value>\d{3,4})\b", re.IGNORECASE)
# "expires 12/26" is a card's only next to one ("my trial expires 12/26" is a date)
_EXPIRY = re.compile(r"\b(?:exp(?:iry|iration)?\.?(?: date)?|(?P<weak>expire[sd])|valid (?:thru|through|until|till)|"
                     r"good thru|gültig bis|ablaufdatum|date d'expiration)\W{0,3}(?:(?:is|was|on|in|ist)\s+)?"
                     r"(?P<value>(?:0?[1-9]|1[0-2])\s?[/\-.]\s?(?:20)?\d{2})(?![/\-.]?\d)", re.IGNORECASE)
# bare "08/27" and "737" straight after a card number: "4111 1111 1111 1111 08/27 737"
_AFTER_CARD = re.compile(r"(?<=\[CARD\])((?:[\s,;|/]+(?:(?:0?[1-9]|1[0-2])/(?:20)?\d{2}|\d{3,4})(?![/\-.]?\d))+)")
_CARD_TAIL = re.compile(r"(?:0?[1-9]|1[0-2])/(?:20)?\d{2}|\d{3,4}")

# 7+ digits with the punctuation people put in phone numbers; "+" or "00" marks an international one
_PHONE = re.compile(r"(?<![\w+])(?:\+|\b00)?(?:\(\+?\d{1,4}\)\s?)?\d[\d \-.()/]{5,}\d(?![\w])")
_DATE = re.compile(r"\b\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b|\b\d{1,2}[-/.]\d{1,2}[-/.]\d{4}\b")
# national formats are trusted where the numbering plan says the number exists (Leniency.VALID); written
# nationally, GB/DE/FR numbers keep their trunk 0, Indian mobiles are 10 digits from 6-9
_REGIONS = (("US", r"\(?[1-9]"), ("GB", r"\(?0"), ("DE", r"\(?0"), ("FR", r"\(?0"), ("IN", r"\(?0|[6-9]"))
# North-American layout, kept even when the plan says the number is fictional: (555) 123-4567
_NANP = re.compile(r"(?:\+?1[ \-.]?)?(?:\(\d{3}\)\s?|\d{3}[ \-.])\d{3}[ \-.]\d{4}")


@cache
def libraries():
    """(phonenumbers, stdnum.iban, stdnum.luhn), or a MissingDependencyError naming the extra."""
    try:
        import phonenumbers
        from stdnum import iban, luhn
    except ImportError as exc:
        raise MissingDependencyError(
            "PII redaction needs phonenumbers and python-stdnum: pip install 'kbsuggest[jobs]'") from exc
    return phonenumbers, iban, luhn


def _iban(match: re.Match) -> str:
    _, iban, _ = libraries()
    text = match.group()
    # the candidate may have swallowed a following word ("... 0130 00 DEAR"): drop groups from the end
    while len(re.sub(r"[ \-]", "", text)) >= 15:
        compact = re.sub(r"[ \-]", "", text).upper()
        # a wrong check digit (a typo) is still somebody's account: the country's layout decides then
        if iban.is_valid(compact) or iban.is_valid(compact[:2] + iban.calc_check_digits(compact) + compact[4:]):
            return "[IBAN]" + match.group()[len(text):]
        text = re.sub(r"[ \-]?[A-Z0-9]{1,4}$", "", text, flags=re.IGNORECASE)
    return match.group()


def _card(match: re.Match) -> str:
    text = match.group()
    digits = re.sub(r"\D", "", text)
    if not 13 <= len(digits) <= 19:
        return text
    _, _, luhn = libraries()
    # a mistyped number laid out like a card, or named a card, is still the card; otherwise the checksum decides
    named = _CARD_WORD.search(match.string, max(0, match.start() - 30), match.start())
    return "[CARD]" if match.group("layout") or named or luhn.is_valid(digits) else text


def _card_value(match: re.Match) -> str:
    """The CVV or expiry date in ``match`` replaced."""
    if match.groupdict().get("weak") and not _CARD_WORD.search(match.string, max(0, match.start() - 40),
                                                                 match.start()):
        return match.group()
    return match.group()[: match.start("value") - match.start()] + "[CARD]"


def redact_cards(text: str) -> str:
    text = _CARD.sub(_card, text)
    text = _CVV.sub(_card_value, text)
    text = _EXPIRY.sub(_card_value, text)
    if "[CARD]" in text:
        text = _AFTER_CARD.sub(lambda m: _CARD_TAIL.sub("[CARD]", m.group()), text)
    return text


def _phone_spans(piece: str) -> list[tuple[int, int]]:
    """Where the phone numbers in ``piece`` (a candidate, or the part of one between dates) are."""
    phonenumbers, _, _ = libraries()
    matcher, leniency = phonenumbers.PhoneNumberMatcher, phonenumbers.Leniency
    if piece.startswith(("+", "00")):
        return [(m.start, m.end) for m in matcher(piece, "GB", leniency=leniency.POSSIBLE)]
    spans = [m.span() for m in _NANP.finditer(piece)]
    for region, national in _REGIONS:
        if not re.match(national, piece):  # "0..." is no NANP number, "4..." no national GB/DE/FR one
            continue
        found = [(m.start, m.end) for m in matcher(piece, region, leniency=leniency.VALID) if re.match(national, m.raw_string)]
        spans += found
        if any(a == 0 and b == len(piece) for a, b in found):  # all of it is one number: no region can add more
            break
    return spans


def _phone(match: re.Match) -> str:
    candidate = match.group()
    # a date next to a number ("on 2026-11-03 10:30") is no part of it: look at the pieces between dates
    pieces, at = [], 0
    for date in _DATE.finditer(candidate):
        pieces.append((at, date.start()))
        at = date.end()
    pieces.append((at, len(candidate)))
    spans = []
    for start, end in pieces:
        piece = candidate[start:end]
        start += len(piece) - len(piece.lstrip())
        if len(_DIGIT.findall(piece)) >= 7:
            spans += [(start + a, start + b) for a, b in _phone_spans(piece.strip())]
    spans.sort()
    merged: list[list[int]] = []
    for a, b in spans:  # several regions (and the NANP layout) may find the same number
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    for a, b in reversed(merged):  # from the end, so earlier offsets stay valid
        candidate = candidate[:a] + "[PHONE]" + candidate[b:]
    return candidate


def redact_numbers(text: str) -> str:
    """IBANs, then cards and their CVV/expiry, then phones (the digits the earlier rules left)."""
    text = _IBAN.sub(_iban, text)
    text = redact_cards(text)
    return _PHONE.sub(_phone, text)
