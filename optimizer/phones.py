"""Phone numbers: the shape the loader accepts and the ``tel:`` link built from it.

A phone cell is shown as typed (``+86 138-0013-8000 ext. 12``), but a Call button must
only ever dial digits: ``javascript:alert(1)`` once became a Call button to ``tel:1``.
So the loader checks the shape (:func:`parse_phone`, an input error with row and column
otherwise), and pages build their link from the parsed number (:func:`tel_uri`), never
from the raw text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: E.164 allows 15 digits; three covers short service numbers (110, 12345).
MIN_DIGITS, MAX_DIGITS = 3, 15

# An extension at the end: "ext. 12", "x12", "#12", ";ext=12", Chinese 转 / 分机.
_EXTENSION = re.compile(r"(?:;\s*ext=|ext\.?|x|#|转|分机)\s*(\d{1,8})\s*$", re.IGNORECASE)
_NUMBER = re.compile(r"\+?[\d\s\-.()]+")

EXPECTED = (
    "expected a phone number: digits, spaces, a leading +, - . and parentheses, "
    "and an optional extension (ext. 12, x12, #12, 转12)"
)


@dataclass(frozen=True, slots=True)
class Phone:
    """A checked number: ``number`` is digits with an optional leading ``+``."""

    number: str
    extension: str = ""

    @property
    def tel_uri(self) -> str:
        """RFC 3966 ``tel:`` URI (``tel:+8613800138000;ext=12``)."""
        ext = f";ext={self.extension}" if self.extension else ""
        return f"tel:{self.number}{ext}"


def parse_phone(text: str) -> Phone:
    """The number in a phone cell, or ValueError saying what is expected.

    Full-width digits (``１３８``) read as digits (NFKC), as a Chinese keyboard types them.

    Raises
    ------
    ValueError
        When the text holds anything but digits, spaces, ``+ - . ( )`` and an extension,
        when the ``+`` is not first, the parentheses do not pair, or the digit count is
        outside 3..15.
    """
    folded = unicodedata.normalize("NFKC", text).strip()
    extension = ""
    found = _EXTENSION.search(folded)
    if found is not None:
        extension = found.group(1)
        folded = folded[: found.start()].rstrip()
    if not _NUMBER.fullmatch(folded) or "+" in folded[1:] or not _paired(folded):
        raise ValueError(f"is not a phone number; {EXPECTED}")
    digits = re.sub(r"\D", "", folded)
    if not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        msg = f"has {len(digits)} digits; {EXPECTED}, {MIN_DIGITS} to {MAX_DIGITS} digits"
        raise ValueError(msg)
    return Phone(("+" if folded.startswith("+") else "") + digits, extension)


def _paired(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth not in (0, 1):
            return False
    return depth == 0


def tel_uri(text: str) -> str:
    """The ``tel:`` link of a phone cell, or ``""`` when it is not a phone number.

    Plans read from a book or an old folder may hold text the loader never checked:
    they get no Call button rather than a link built from whatever the text holds.
    """
    try:
        return parse_phone(text).tel_uri
    except ValueError:
        return ""
