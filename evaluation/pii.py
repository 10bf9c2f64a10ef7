"""The labelled PII set (tests/fixtures/pii/labelled.jsonl) and how a redactor is scored on it.

A secret counts as removed only when no piece of it survives: neither the whole string nor any
alphanumeric run of two or more characters from it ("0958" of a phone number, "müller" of an address)
appears in the output more often than in the rest of the sentence. Negatives must come back unchanged.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

LABELLED = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "pii" / "labelled.jsonl"
NEGATIVE = "negative"
_PIECE = re.compile(r"[^\W_]{2,}")
_PLACEHOLDER = re.compile(r"\[[A-Z]+\]")


def load_labelled(path: Path = LABELLED) -> list[dict]:
    """The samples, each ``{"text", "secrets", "category"}``; negatives have no secrets."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def leaked(text: str, redacted: str, secret: str, secrets: list[str]) -> bool:
    """Whether any piece of ``secret`` is still in ``redacted`` (beyond what the rest of ``text`` has)."""
    rest = text
    for other in sorted(secrets, key=len, reverse=True):
        rest = rest.replace(other, " ")
    output = _PLACEHOLDER.sub(" ", redacted)
    return secret in output or any(output.count(p) > rest.count(p) for p in _PIECE.findall(secret))


def lost_words(text: str, redacted: str, secrets: list[str]) -> list[str]:
    """Words of ``text`` outside its secrets that the redactor removed (the precision cost)."""
    rest = text
    for secret in sorted(secrets, key=len, reverse=True):
        rest = rest.replace(secret, " ")
    missing = Counter(_PIECE.findall(rest)) - Counter(_PIECE.findall(_PLACEHOLDER.sub(" ", redacted)))
    return sorted(missing.elements())


@dataclass
class Score:
    found: Counter = field(default_factory=Counter)  # secrets fully removed, per category
    total: Counter = field(default_factory=Counter)
    misses: dict = field(default_factory=lambda: defaultdict(list))  # category -> [(text, redacted, secret)]
    negatives_kept: int = 0
    negatives: int = 0
    changed_negatives: list = field(default_factory=list)  # [(text, redacted)]
    lost: list = field(default_factory=list)  # context words removed from positive samples

    def recall(self, category: str | None = None) -> float:
        found = self.found[category] if category else sum(self.found.values())
        total = self.total[category] if category else sum(self.total.values())
        return found / total if total else 1.0


def score(redact: Callable[[str], str], samples: list[dict]) -> Score:
    result = Score()
    for sample in samples:
        text, secrets, category = sample["text"], sample["secrets"], sample["category"]
        redacted = redact(text)
        if category == NEGATIVE:
            result.negatives += 1
            if redacted == text:
                result.negatives_kept += 1
            else:
                result.changed_negatives.append((text, redacted))
            continue
        for secret in secrets:
            result.total[category] += 1
            if leaked(text, redacted, secret, secrets):
                result.misses[category].append((text, redacted, secret))
            else:
                result.found[category] += 1
        result.lost += lost_words(text, redacted, secrets)
    return result
