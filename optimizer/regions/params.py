"""Settings of a day solved by regions (``[regions]``): the wing's own parameters."""

from __future__ import annotations

from dataclasses import dataclass

from optimizer.errors import ConfigurationError

#: Largest region ``--regions auto`` makes: three 1,000-visit regions served more
#: priority than one 3,000-visit problem at the same budget, which overran it building
#: its model (docs/benchmarks.md); such a region's matrices take about 39 MB.
DEFAULT_MAX_VISITS = 1000

#: Agents' bases closer than this are one city: far enough to join a city's districts,
#: short of the 100+ km between the cities of a national team.
DEFAULT_LINK_KM = 30.0


@dataclass(frozen=True, slots=True)
class RegionSettings:
    """How a day is cut into regions and where the regions are solved."""

    #: Ray cluster to join (``ray://host:10001`` or ``auto``); None starts a local one.
    ray_address: str | None = None
    #: Times a failed region task is tried again before its visits are given up.
    max_retries: int = 2
    #: ``--regions auto``: a city with more visits than this is cut into parts.
    max_visits: int = DEFAULT_MAX_VISITS
    #: ``--regions auto``: bases closer than this (km, chained) are one region.
    link_km: float = DEFAULT_LINK_KM
    #: Share of ``--time-limit`` kept for splitting, matrices and verifying (the regions'
    #: searches share the rest; writing the folder comes after, as for any day).
    overhead_share: float = 0.15

    def __post_init__(self) -> None:
        if not 0 <= self.max_retries <= 10:
            msg = f"regions.max_retries {self.max_retries!r} is out of range; expected 0 to 10"
            raise ConfigurationError(msg)
        if not 10 <= self.max_visits <= 100_000:
            msg = f"regions.max_visits {self.max_visits!r} is out of range; expected 10 to 100000"
            raise ConfigurationError(msg)
        if not 0.1 <= self.link_km <= 1000:
            msg = f"regions.link_km {self.link_km!r} is out of range; expected 0.1 to 1000 km"
            raise ConfigurationError(msg)
        if not 0 <= self.overhead_share < 1:
            msg = (
                f"regions.overhead_share {self.overhead_share!r} is out of range; expected 0 to < 1"
            )
            raise ConfigurationError(msg)
