"""The shapes a regular expression decides alone: URLs, e-mails, vendors' tokens and IP addresses.

IPv6 candidates are confirmed by ``ipaddress`` (so times such as 10:30:00 and MAC addresses stay);
the rest are shapes distinctive enough not to need a checksum.
"""

from __future__ import annotations

import ipaddress
import re

_URL = re.compile(r"\b(?:https?|ftp)://[^\s<>\"'`]+|\bwww\.[^\s<>\"'`]+", re.IGNORECASE)
_URL_USERINFO = re.compile(r"(?<=://)[^/\s@]+@")
# query or fragment parameters whose values are credentials or identities (X-Amz-Signature, id_token...)
_URL_SECRET = re.compile(
    r"([?&#;][\w.\-]*(?:token|auth|key|secret|sig|signature|credential|code|password|passwd|pwd|pass|session|sid|"
    r"email|mail|user|login|reset|otp|jwt)[\w.\-]*=)[^&#\s]+", re.IGNORECASE)
# every word but the first starts upper-case: one way to split, so no backtracking blow-up on long runs
_CAMEL_WORDS = re.compile(r"(?:[A-Z]?[a-z]{3,})(?:[A-Z][a-z]{3,})*")
_URL_LONG_SEGMENT = re.compile(r"(?<=[^/]/)[A-Za-z0-9_\-.~%]{20,}(?=[/?#]|$)")

# Unicode local parts and domains (jörg.müller@beispiel.de), o'neill@..., punycode TLDs; \w is Unicode-aware.
_EMAIL = re.compile(r"(?<![\w.%+\-])[\w.%+\-]+(?:'[\w.%+\-]+)*@"
                    r"(?:[^\W_](?:[\w\-]*[^\W_])?\.)+(?:[^\W\d_]{2,}|xn--[a-z0-9\-]+)(?![\w\-])")

# Vendors' key formats, then JWTs (three base64url parts, the first two JSON objects "eyJ..."), then long hex.
_TOKEN = re.compile(
    r"\b(?:(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}"
    r"|github_pat_[A-Za-z0-9_]{20,}|gh[pousr]_[A-Za-z0-9]{20,}|glpat-[A-Za-z0-9_\-]{16,}"
    r"|AIza[0-9A-Za-z_\-]{30,}|xox[abposr]-[A-Za-z0-9\-]{10,}|npm_[A-Za-z0-9]{30,}"
    r"|SG\.[\w\-]{16,}\.[\w\-]{16,}|(?:SK|AC)[0-9a-fA-F]{32}"
    r"|(?:sk|pk|rk|tok|key|ghp|xox[abp])[_\-][A-Za-z0-9_\-]{12,}"
    r"|eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*"
    r"|[0-9a-fA-F]{32,})(?![\w\-])"
    # an AWS secret access key: 40 base64 characters mixing digits and both cases
    r"|(?<![\w/+=])(?=[\w/+]{0,39}\d)(?=[\w/+]{0,39}[a-z])(?=[\w/+]{0,39}[A-Z])[A-Za-z0-9/+]{40}(?![\w/+=])")

_LONG_RUN = re.compile(r"[\w\-+/=.]{16,}")

_IPV4 = re.compile(r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\w]|\.\d)")
# any colon-hex run with a digit (full, compressed "2001:db8::", "::1", v4-mapped, zone); ipaddress decides
_IPV6 = re.compile(r"(?<![\w:.])(?=[0-9A-Fa-f:.%]*\d)(?:[0-9A-Fa-f]{0,4}:){2,7}"
                   r"(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}|[0-9A-Fa-f]{0,4})"
                   r"(?:%[\w.]+)?(?![\w:])")


def _url(match: re.Match) -> str:
    url = _URL_USERINFO.sub("[SECRET]@", match.group())
    url = _URL_SECRET.sub(lambda m: m.group(1) + "[TOKEN]", url)
    url = _EMAIL.sub("[EMAIL]", url)
    return _URL_LONG_SEGMENT.sub(_long_segment, url)


def _long_segment(match: re.Match) -> str:
    segment = match.group()
    # an id or a signature goes; a readable slug (how-to-export-dashboards, Online-REPs-and-REPLs,
    # beratung-in-18-sprachen.html, GmailThreadingDetails) stays
    words = [w for w in re.split(r"[-_.~]", segment) if w]
    if len(words) >= 3 and all(w.isalpha() or (w.isdigit() and len(w) <= 4) for w in words):
        return segment
    return segment if _CAMEL_WORDS.fullmatch(segment) else "[TOKEN]"


def redact_urls(text: str) -> str:
    return _URL.sub(_url, text) if ("://" in text or "www." in text) else text


def redact_emails(text: str) -> str:
    return _EMAIL.sub("[EMAIL]", text) if "@" in text else text


def redact_tokens(text: str) -> str:
    # every token format is a run of 16+ such characters; most tickets have none
    return _TOKEN.sub("[TOKEN]", text) if _LONG_RUN.search(text) else text


def _ipv6(match: re.Match) -> str:
    try:
        ipaddress.IPv6Address(match.group())
    except ValueError:  # a time (10:30:00), a MAC address, a C++ scope
        return match.group()
    return "[IP]"


def redact_ips(text: str) -> str:
    if "::" in text or text.count(":") >= 7:
        text = _IPV6.sub(_ipv6, text)
    return _IPV4.sub("[IP]", text) if "." in text else text
