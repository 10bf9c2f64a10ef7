"""How a CSV export is encoded and delimited, read off its bytes (JSON is UTF-8 by its RFC 8259).

- A byte-order mark says UTF-8 or UTF-16 (Excel's "Unicode text"); UTF-16 without one shows as NUL bytes
  in every other place.
- Otherwise the file is UTF-8 if it decodes as UTF-8; if it does not, and nothing before the first bad byte
  was UTF-8 beyond ASCII, it is cp1252 (Excel's "CSV" on Windows, Salesforce's Western exports). A file
  that has real UTF-8 and then a bad byte stays UTF-8: that row is reported, the others kept.
- The delimiter is the one of ``,`` ``;`` tab ``|`` the header line holds most of (outside quotes);
  Excel writes ``;`` where the decimal mark is a comma. ``.tsv`` is tab.
"""

from __future__ import annotations

import codecs
from pathlib import Path

SCAN_BYTES = 1 << 20
DELIMITERS = (",", ";", "\t", "|")


def detect_encoding(path: Path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(4096)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        if len(head) >= 4 and head.count(0) * 3 >= len(head):  # ASCII as UTF-16: every other byte NUL
            return "utf-16-le" if head[1] == 0 else "utf-16-be"
        handle.seek(0)
        decoder, seen_multibyte = codecs.getincrementaldecoder("utf-8")(), False
        while chunk := handle.read(SCAN_BYTES):
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                seen_multibyte = seen_multibyte or any(b >= 0x80 for b in chunk[:exc.start])
                return "utf-8" if seen_multibyte else "cp1252"
            seen_multibyte = seen_multibyte or not text.isascii()
    return "utf-8"


def detect_delimiter(header: str, suffix: str) -> str:
    if suffix == ".tsv":
        return "\t"
    counts, quoted = dict.fromkeys(DELIMITERS, 0), False
    for char in header:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties: the first, a comma
    return best if counts[best] else ","
