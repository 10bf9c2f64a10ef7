"""Credentials written into a sentence: ``api_key=...``, ``Bearer ...``, "my password is X", "pw: X",
"PIN 1234", "login: maria / Secret123".

The value goes, the keyword stays, so the sentence still reads ("my password is [SECRET]"). A plain
word after "password is" is usually the password's state ("wrong", "blocked", "expired"), so such words,
and PINs and codes without a digit, are kept: BANKING77's "my PIN was blocked" names no PIN.
"""

from __future__ import annotations

import re

# "<key> is/was/:/=/-/set to <value>" (a JSON key keeps its closing quote: "aws_secret_access_key": "...")
_ASSIGN = (r"[\"']?(?P<sep>\s+(?:(?:is|was|has been|have been)\s+)?(?:set|changed|reset|updated)\s+to\s+"
           r"|\s*(?::|=>|=|->|→)\s*|\s+[-–]\s+"
           r"|\s+(?:is|was|are|lautet|ist|heißt|est|es|é)\s+(?:(?:now|still|just|currently|actually|simply)\s+)?"
           r"(?:[:=]\s*)?)")
_VALUE = r"(?P<value>\"[^\"\n]+\"|'[^'\n]+'|`[^`\n]+`|[^\s\"'`]+)"
_QUOTES = "\"'`"

# machine credentials: the value becomes [TOKEN]
_KEY = re.compile(
    r"\b(?P<key>aws_secret_access_key|aws_access_key_id|aws_session_token|secret[_ \-]?access[_ \-]?key|"
    r"(?:api|app|client|private|secret|access|auth|refresh|session)[_ \-]?(?:key|secret|token)|apikey|x-api-key|"
    r"token|secret|bearer|basic)" + rf"(?:{_ASSIGN}|(?<=bearer)\s+|(?<=basic)\s+){_VALUE}", re.IGNORECASE)
# what people type; a few words may sit between the key and "is" ("password for the admin account is X",
# "the password I use is X"); without "is", ":" or "=" the value must hold a digit ("passcode 4471"), after
# a bare "to" a digit or a symbol ("change my password to something stronger" names none)
_PASSWORD = re.compile(
    r"\b(?P<key>password|passwort|passwd|passcode|passphrase|pass\s?word|pwd|pw|pass|kennwort|wachtwoord|senha|"
    r"mot de passe|contraseña|pin(?:\s?(?:code|number))?|(?:verification|2fa|otp|one[- ]time|sms|login)\s?code|otp)"
    r"(?:\s+(?:for|of|on|at|that|which|i|we|you)(?:\s+[^\s:=]+){1,3}?(?=\s*(?:[:=]|is\b|was\b)))?"
    + rf"(?:{_ASSIGN}|(?P<bare>\s+)(?=\S*\d)|(?P<to>\s+to\s+)){_VALUE}", re.IGNORECASE)
# "login: maria / Secret123"
_PAIR = re.compile(r"\b(?:credentials|creds|login|log-in|sign-in)\s*[:=]\s*[^\s/]+\s*/\s*" + _VALUE, re.IGNORECASE)

# words that follow "password is" in sentences about a password rather than quoting one
_NOT_SECRETS = frozenset("""
a an the not no wrong incorrect invalid correct right expired expiring too very being getting still required needed
missing empty blank same different long short weak strong case it this that my your our their his her on in at for of
to and or but reset set changed saved stored accepted rejected never always ok okay fine working broken locked lost
forgotten forgot unknown known hidden shown visible encrypted hashed secure safe new old temporary one all also now
sent emailed mandatory optional please field box link page screen none null valid falsch richtig abgelaufen faux
incorrecto
""".split())
_STATES = ("ed", "ing", "able", "ible")  # blocked, expired, working, unusable
_NUMERIC_KEYS = ("pin", "verification", "2fa", "otp", "one", "sms", "login")  # PINs and codes are digits


def _describes(word: str) -> bool:
    """Whether a plain lowercase word after "password is" describes the password rather than being it."""
    return word.isalpha() and word.islower() and (word in _NOT_SECRETS or word.endswith(_STATES))


def _replace_value(match: re.Match, placeholder: str, min_len: int = 1, needs: str = "") -> str:
    """``match`` with its value replaced, unless the value is a placeholder, a state or lacks what
    ``needs`` asks for ("digit": a digit, "symbol": anything but letters)."""
    value = match.group("value")
    start, end = match.span("value")
    if value[0] in _QUOTES:  # quoted: the quoted text is the secret, whatever it says
        start, end = start + 1, end - 1
    else:
        word = value.rstrip(".,;:!?)")  # sentence punctuation
        if (word.startswith("[") or _describes(word) or len(word) < min_len or (word.isdigit() and len(word) < 4)
                or (needs == "digit" and not any(c.isdigit() for c in word)) or (needs == "symbol" and word.isalpha())):
            return match.group()
        end = start + len(value.rstrip(".,;:)"))  # "Hunter2!" keeps its "!"
    whole, offset = match.group(), match.start()
    return whole[: start - offset] + placeholder + whole[end - offset:]


def _key(match: re.Match) -> str:
    key = match.group("key").lower()
    if key in ("bearer", "basic"):  # "basic collaborative editing" is no header
        return _replace_value(match, "[TOKEN]", min_len=12, needs="digit")
    return _replace_value(match, "[TOKEN]", min_len=8, needs="digit" if key in ("token", "secret") else "")


def _password(match: re.Match) -> str:
    key = match.group("key").lower()
    if key.startswith(_NUMERIC_KEYS):
        needs = "digit"
    elif match.group("to") or key == "pass":  # "change my password to something", "Family Pass is valid"
        needs = "symbol"
    else:
        needs = ""
    return _replace_value(match, "[SECRET]", min_len=4 if match.group("bare") else 1, needs=needs)


# substrings without which a rule cannot match: most tickets skip the (slower) full patterns
_KEY_HINTS = ("key", "token", "secret", "bearer", "basic")
_PASSWORD_HINTS = ("pass", "pw", "pin", "code", "otp", "kennwort", "wachtwoord", "senha", "mot de passe", "contraseña")
_PAIR_HINTS = ("cred", "log", "sign-in")


_ANY_HINT = re.compile("|".join(map(re.escape, _KEY_HINTS + _PASSWORD_HINTS + _PAIR_HINTS)))


def redact_credentials(text: str) -> str:
    lower = text.lower()
    if not _ANY_HINT.search(lower):
        return text
    if any(hint in lower for hint in _KEY_HINTS):
        text = _KEY.sub(_key, text)
    if any(hint in lower for hint in _PASSWORD_HINTS):
        text = _PASSWORD.sub(_password, text)
    if any(hint in lower for hint in _PAIR_HINTS):
        text = _PAIR.sub(lambda m: _replace_value(m, "[SECRET]", min_len=4, needs="symbol"), text)
    return text
