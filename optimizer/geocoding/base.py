"""The geocoding interface and the address normaliser every provider shares.

A geocoder turns one address into a :class:`GeocodeResult` (a WGS-84 point, how
precise the match is, and which provider answered) or ``None`` when the address is
unknown. A provider that cannot answer at all (down, timed out, quota, bad key)
raises :class:`~optimizer.errors.GeocodingServiceError` instead: "not found" and
"could not ask" are never mixed up.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from optimizer.domain import GeoPoint


class Quality(StrEnum):
    """How precise a match is, finest first.

    ``place`` is a named point (a shop, an office, a landmark): as precise as a house
    number for routing. ``district`` and ``city`` are coarse: a point somewhere in a
    neighbourhood or town, not at the door.
    """

    HOUSE_NUMBER = "house_number"
    PLACE = "place"
    STREET = "street"
    DISTRICT = "district"
    CITY = "city"

    @property
    def is_coarse(self) -> bool:
        """District or city level: too vague to drive to when a door was asked for."""
        return self in (Quality.DISTRICT, Quality.CITY)


@dataclass(frozen=True, slots=True)
class GeocodeResult:
    """One answer: ``point`` is always WGS-84, converted at the provider boundary."""

    point: GeoPoint
    quality: Quality
    source: str


@runtime_checkable
class Geocoder(Protocol):
    """Anything that locates an address.

    ``name`` identifies the provider and its configuration in the cache key (two
    Nominatim servers may answer differently, so the server is part of the name).
    ``online`` tells whether a call may use the network (``--offline`` refuses those).
    """

    @property
    def name(self) -> str: ...

    @property
    def online(self) -> bool: ...

    def geocode(self, address: str) -> GeocodeResult | None:
        """Locate ``address``; None when it is unknown.

        Raises
        ------
        GeocodingServiceError
            The provider could not be asked (network, timeout, quota, key).
        """
        ...


# --- normalisation -------------------------------------------------------------------

_CHINESE_DIGITS = "零〇一二三四五六七八九十百"
_NUM = rf"[0-9a-z{_CHINESE_DIGITS}]+"
#: Trailing unit parts in Chinese addresses: room, flat, unit (entrance), floor,
#: building within a compound. "6号院3号楼2单元501室" is matched as "6号院".
_CN_UNIT = re.compile(rf"(?:{_NUM}\s*(?:室|房|户|单元|层|楼层|号楼|楼|栋|幢|座)\s*)+$")
_FLOOR_WORDS = r"floor|fl|etage|stock|og|stockwerk|piso|planta|piano|etg"
_UNIT_WORDS = (
    r"apt|apartment|appartement|app|flat|suite|ste|unit|room|rm|bureau|office|"
    r"wohnung|whg|top|door|porte"
)
#: A trailing "Apt 4B", "Suite 200", "Room 12", "Floor 3", "3rd floor", "2e étage".
_WESTERN_UNIT = re.compile(
    rf"(?:\s|^)(?:(?:{_UNIT_WORDS}|{_FLOOR_WORDS})\s*(?:no\s*)?[0-9a-z]{{1,5}}"
    rf"|[0-9]{{1,3}}\s*(?:st|nd|rd|th|e|er|eme|ere)?\s*(?:{_FLOOR_WORDS}))\s*$"
)
_HASH_NUMBER = re.compile(r"(?:#\s*|\b(?:no|nr|n°|nº)\.?\s*)(?=[0-9])")
_HAO = re.compile(r"(?<=[0-9])\s*号(?!楼)")
_PUNCT = re.compile(r"[\s\-‐–—_./\\'\"`´’‘“”()\[\]{}:;!?|+*&@~^、。·・]+")
_COMMA = re.compile(r"\s*[,，;；]\s*")
_NUMBER_TOKEN = re.compile(r"(?<![0-9a-z])[0-9]{1,5}[a-z]?(?![0-9a-z])")
_POSTCODE_TOWN = re.compile(r"^[0-9]{4,6}\s+\D")


def _fold(text: str) -> str:
    """NFKC (full-width to half-width), casefold, drop Latin accents."""
    text = unicodedata.normalize("NFKC", text).casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    # Only the Latin combining block: kana voicing marks (U+3099/309A) are kept.
    stripped = "".join(c for c in decomposed if not "\u0300" <= c <= "\u036f")
    return unicodedata.normalize("NFC", stripped)


def _clean_part(part: str) -> str:
    part = _HASH_NUMBER.sub("", part)
    part = _PUNCT.sub(" ", part).strip()
    # Strip trailing unit parts repeatedly ("Apt 4, 3rd floor" arrives as parts), before
    # 号 goes: "243号5楼502室" must not become "2435楼502室".
    while True:
        shorter = _WESTERN_UNIT.sub("", part).strip()
        shorter = _CN_UNIT.sub("", shorter).strip()
        if shorter == part or not shorter:
            break
        part = shorter
    part = _HAO.sub(lambda m: " " if m.end() < len(part) and part[m.end()].isdigit() else "", part)
    return " ".join(part.split())


def address_parts(address: str) -> tuple[str, ...]:
    """The normalised comma-separated parts of ``address``; unit-only parts dropped.

    >>> address_parts("Quai Antoine 1er ６, Apt 4B, 98000 MONACO")
    ('quai antoine 1er 6', '98000 monaco')
    >>> address_parts("北京市朝阳区阜通东大街６号院3号楼2单元501室")
    ('北京市朝阳区阜通东大街6院',)
    """
    parts = []
    for raw in _COMMA.split(_fold(address)):
        cleaned = _clean_part(raw)
        # A whole part that was only "Apt 4B" or "3rd floor" leaves nothing useful.
        if cleaned and not _WESTERN_UNIT.fullmatch(" " + cleaned):
            parts.append(cleaned)
    return tuple(parts)


def normalize_address(address: str) -> str:
    """The matching key of an address: the cache key and the gazetteer's key.

    Full-width and half-width forms are unified (NFKC), case and Latin accents are
    folded, punctuation and runs of spaces become one space, ``号`` after a number
    and ``#``/``No.`` before one are dropped, and trailing floor/room/unit parts are
    stripped. Parts stay separated by ``,``.

    >>> normalize_address("  Rue  Grimaldi #12,  Monaco ")
    'rue grimaldi 12,monaco'
    """
    return ",".join(address_parts(address))


def has_house_number(address: str) -> bool:
    """Whether the address names a door: a number in its street part or ``N号``.

    Postcode-and-town parts ("98000 Monaco", "9490 Vaduz") do not count.
    """
    folded = _fold(address)
    if re.search(r"[0-9]\s*号(?!楼)", folded):
        return True
    for part in address_parts(address):
        if _POSTCODE_TOWN.match(part):
            continue
        if _NUMBER_TOKEN.search(part):
            return True
    return False


def without_house_number(part: str) -> str:
    """``part`` with its number tokens removed ("avenue de verdun 196" -> street)."""
    return " ".join(_NUMBER_TOKEN.sub(" ", part).split())


def swapped_number(part: str) -> str | None:
    """ "6 quai antoine" <-> "quai antoine 6": the two usual orders of a door number."""
    tokens = part.split()
    if len(tokens) < 2:
        return None
    if _NUMBER_TOKEN.fullmatch(tokens[0]) and not _NUMBER_TOKEN.fullmatch(tokens[-1]):
        return " ".join([*tokens[1:], tokens[0]])
    if _NUMBER_TOKEN.fullmatch(tokens[-1]) and not _NUMBER_TOKEN.fullmatch(tokens[0]):
        return " ".join([tokens[-1], *tokens[:-1]])
    return None


class LookupUnavailableError(LookupError):
    """This run cannot look addresses up at all, for a reason that is not a service fault.

    ``--offline`` with an online provider and an address the cache does not hold, or
    no gazetteer file. Not an :class:`~optimizer.errors.OptimizerError`: it never
    leaves the geocoding layer; :func:`~optimizer.geocoding.resolve.locate` turns it
    into the visit's reason, and the plan goes on without that visit.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class UnavailableGeocoder:
    """Stands in for a geocoder that this run may not or cannot use.

    Under ``--offline`` it carries the online provider's cache name, so cached
    answers from earlier online runs are still found (the cache sits in front); any
    other address raises :class:`LookupUnavailableError` and no socket is opened.
    """

    online = False

    def __init__(self, name: str, reason: str) -> None:
        self._name = name
        self.reason = reason

    @property
    def name(self) -> str:
        return self._name

    def geocode(self, address: str) -> GeocodeResult | None:
        raise LookupUnavailableError(self.reason)


def offline_reason(label: str) -> str:
    """The reason given to a visit that ``--offline`` kept from ``label``."""
    return (
        f"address not geocoded: not in the geocoding cache, and --offline forbids asking "
        f"{label}; run once online or add lat/lon"
    )
