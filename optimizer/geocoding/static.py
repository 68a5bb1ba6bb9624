"""A geocoder from a dict: for tests, demos and programmatic use."""

from __future__ import annotations

from collections.abc import Mapping

from optimizer.geocoding.base import GeocodeResult, normalize_address


class StaticGeocoder:
    """Answers from a fixed mapping of addresses (matched by normalised key).

    ``calls`` counts lookups, so tests can prove a cache kept them away.
    """

    online = False

    def __init__(self, answers: Mapping[str, GeocodeResult], *, name: str = "static") -> None:
        self._answers = {normalize_address(k): v for k, v in answers.items()}
        self._name = name
        self.calls = 0

    @property
    def name(self) -> str:
        return self._name

    def geocode(self, address: str) -> GeocodeResult | None:
        self.calls += 1
        return self._answers.get(normalize_address(address))
