"""PII redaction: exact outputs per kind of secret, text that must stay as written, the whole labelled
set (tests/fixtures/pii/labelled.jsonl) at recall 1.0, and a clear error without the libraries."""

import sys

import pytest

from evaluation.pii import NEGATIVE, leaked, load_labelled, score
from gaps.redact import PLACEHOLDERS, redact
from gaps.redact import numbers
from kbsuggest.errors import MissingDependencyError

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJ1aWQiOjQyfQ.kX2vYp9aQ8wE7rT6yU5iO4pA3sD2fG1h"


@pytest.mark.parametrize("text, expected", [
    # e-mails: internationalised, plus-addressing, apostrophes, punycode
    ("write to jörg.müller@beispiel.de or john.doe+tallyo@gmail.com today", "write to [EMAIL] or [EMAIL] today"),
    ("invoice for a.o'neill@dublin-example.ie and billing@xn--mnchen-3ya.de", "invoice for [EMAIL] and [EMAIL]"),
    # phones: GB, DE, FR, IN, US (a fictional 555 number too), 00-prefixed
    ("call +44 20 7946 0958, 030 12345678, 01 42 68 53 00, +91 98765 43210 or (555) 123-4567",
     "call [PHONE], [PHONE], [PHONE], [PHONE] or [PHONE]"),
    ("Festnetz 030 98765432, Handy 0151 23456789, aus dem Ausland 0049 30 12345678",
     "Festnetz [PHONE], Handy [PHONE], aus dem Ausland [PHONE]"),
    ("my mobile is 98450 12345, the office 415-555-0132", "my mobile is [PHONE], the office [PHONE]"),
    # cards: dashes, none, Amex layout, a mistyped number laid out like a card, and the CVV and expiry
    ("card 4111-1111-1111-1111 declined, then 5555555555554444", "card [CARD] declined, then [CARD]"),
    ("Amex 3782 822463 10005 and the typo 4111 1111 1111 1112", "Amex [CARD] and the typo [CARD]"),
    ("card 4111 1111 1111 1111 exp 09/28 cvv 737", "card [CARD] exp [CARD] cvv [CARD]"),
    ("4000056655665556 | 04/28 | 142", "[CARD] | [CARD] | [CARD]"),
    # IBANs with and without spaces; a mistyped check digit is still an account
    ("refund to DE89 3704 0044 0532 0130 00 or GB82WEST12345698765432", "refund to [IBAN] or [IBAN]"),
    ("IBAN FR14 2004 1010 0505 0001 3M02 606, typo DE89 3704 0044 0532 0130 01", "IBAN [IBAN], typo [IBAN]"),
    # IP addresses: v4 with a port, v6 compressed at the end, link-local with a zone, v4-mapped
    ("from 203.0.113.45:8080 and 2001:db8:: and fe80::1%eth0", "from [IP]:8080 and [IP] and [IP]"),
    ("mapped ::ffff:192.0.2.128, full 2001:0db8:85a3:0000:0000:8a2e:0370:7334", "mapped [IP], full [IP]"),
    # AWS keys, JWTs, vendors' tokens, long hex keys
    ("AKIAIOSFODNN7EXAMPLE with aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
     "[TOKEN] with aws_secret_access_key=[TOKEN]"),
    (f"Authorization: Bearer {JWT}", "Authorization: Bearer [TOKEN]"),
    ("ghp_16C7e42F292c6912E7710c838347Ae178B4a glpat-xY7zQ2wE9rT1uI3oP5aS xoxb-2048-1234567890123-AbCdEfGhIjKl "
     "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuv",
     "[TOKEN] [TOKEN] [TOKEN] [TOKEN] [TOKEN]"),
    ("key 9f86d081884c7d659a2feaa0c55ad015 stopped working", "key [TOKEN] stopped working"),
    ('"api_key": "7Hq2Lm9Xz4Rt8Wv1Kp6Ns3"', '"api_key": "[TOKEN]"'),
    # URLs: credentials in the user part, the query and the path; readable slugs stay
    ("open https://admin:S3cret@app.example/reset?token=abc123&email=maria%40example.com&lang=en",
     "open https://[SECRET]@app.example/reset?token=[TOKEN]&email=[TOKEN]&lang=en"),
    (f"https://app.example/embed?auth={JWT}&theme=dark", "https://app.example/embed?auth=[TOKEN]&theme=dark"),
    ("https://x.example/invite/AbCdEfGhIjKlMnOpQrStUv/accept and https://docs.example/how-to-export-dashboards",
     "https://x.example/invite/[TOKEN]/accept and https://docs.example/how-to-export-dashboards"),
    # passwords, passcodes, PINs and one-time codes typed into a sentence
    ("my password is Hunter2!, pw: qwerty123, passcode 4471 and the 2FA code 482913",
     "my password is [SECRET], pw: [SECRET], passcode [SECRET] and the 2FA code [SECRET]"),
    ("I set the password to 'correct horse battery staple'", "I set the password to '[SECRET]'"),
    ("the password for the admin account is Test1234", "the password for the admin account is [SECRET]"),
    ("Mein Passwort ist Sonnenschein99, login: maria / Secret123", "Mein Passwort ist [SECRET], login: maria / [SECRET]"),
])
def test_redacts_each_kind_of_secret(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text", [
    "Order 48213 arrived damaged; invoice INV-2026-00042 and ticket #100234",
    "The export on 2026-11-03 at 10:30:00 failed, and since 03/11/2026 the dashboard is empty",
    "We upgraded to version 2.14.1, the app 3.2.0-beta.4 crashes; build 2026.11.3",
    "We pay $1,299.00 per year, 49,90 € a month; 1,234,567 visits",
    "API returns 429, then HTTP 404 and 502",
    "Is AWS supported? Do you support JWT? How do I create an API key? Where do I enter my IBAN?",
    "my PIN was blocked, the passcode was denied and the password is wrong",
    "Password reset link expired; change my password to something stronger",
    "created_at 2026-11-03T10:30:00Z, ratio 16:9, port 8080, error 0x80070005",
    "Can I pin 2 dashboards? We tried the password 3 times. The card ending in 1111 was charged",
    "If basic collaborative editing works; the token expired after 30 minutes",
    "See https://docs.tallyo.example/how-to-export-dashboards-to-powerpoint",
])
def test_leaves_ordinary_text_as_written(text):
    assert redact(text) == text


def test_empty_input_and_the_placeholders():
    assert (redact(None), redact(""), redact("   ")) == ("", "", "   ")
    assert PLACEHOLDERS == ("[EMAIL]", "[PHONE]", "[CARD]", "[IP]", "[TOKEN]", "[URL]", "[IBAN]", "[SECRET]")
    assert redact(" ".join(PLACEHOLDERS)) == " ".join(PLACEHOLDERS)


def test_the_labelled_set_is_fully_redacted():
    samples = load_labelled()
    result = score(redact, samples)
    assert (len(samples), sum(result.total.values()), result.negatives) == (422, 404, 70)
    assert len(result.total) == 13 and min(result.total.values()) >= 15  # every category is well covered
    assert {c: m for c, m in result.misses.items() if m} == {}
    assert result.recall() == 1.0
    assert result.changed_negatives == [] and result.negatives_kept == 70
    assert result.lost == []  # and no word around a secret went with it


def test_a_piece_of_a_secret_left_behind_counts_as_a_leak():
    text = "call +44 20 7946 0958 now"
    assert leaked(text, "call +44 20 7946 [PHONE] now", "+44 20 7946 0958", ["+44 20 7946 0958"])
    assert not leaked(text, "call [PHONE] now", "+44 20 7946 0958", ["+44 20 7946 0958"])
    assert not leaked("ring 020 at 020 7946 0958", "ring 020 at [PHONE]", "020 7946 0958", ["020 7946 0958"])


def test_the_labelled_file_is_well_formed():
    for sample in load_labelled():
        assert set(sample) == {"text", "secrets", "category"}
        assert all(secret in sample["text"] for secret in sample["secrets"])
        assert bool(sample["secrets"]) == (sample["category"] != NEGATIVE)


def test_without_the_libraries_redaction_says_which_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "phonenumbers", None)  # import phonenumbers now raises ImportError
    numbers.libraries.cache_clear()
    try:
        with pytest.raises(MissingDependencyError, match=r"pip install 'kbsuggest\[jobs\]'"):
            redact("a ticket without any number")
    finally:
        monkeypatch.undo()
        numbers.libraries.cache_clear()
    assert redact("call +44 20 7946 0958") == "call [PHONE]"


def test_placeholders_are_never_cluster_keywords():
    from gaps.describe import ctfidf_keywords

    docs = ["refund to [IBAN] please, password [SECRET] refund", "dark mode [EMAIL] [PHONE] theme dark [TOKEN] [IP]"]
    assert ctfidf_keywords(docs) == [["refund", "password"], ["dark mode", "theme dark"]]
