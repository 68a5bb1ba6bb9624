"""Travel times and distances between points, per travel mode.

The solver sees only integer matrices (seconds, metres). Where they come from sits
behind :class:`TravelProvider`, so a road-network provider replaces the straight-line
estimate without touching the solver or the verifier.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from optimizer.domain import GeoPoint, Mode

#: Matrix cells are int32: half of int64, and a day's seconds or metres (at most
#: 2,147,483,647) fit with room to spare. The matrices grow with the square of the
#: points, so their width decides how large a day fits in memory (optimizer.sizing).
MATRIX_DTYPE = np.int32
IntMatrix = npt.NDArray[np.int32]


@dataclass(frozen=True, slots=True)
class TravelMatrix:
    """Square matrices over the same points: ``seconds[i, j]`` and ``metres[i, j]``.

    ``unreachable[i]`` is a reason (e.g. "no road within 420 m") when point ``i`` cannot
    be routed at all; the problem builder turns it into an unassigned reason. Matrices
    of another integer type are stored as :data:`MATRIX_DTYPE` (values outside its
    range are refused), so every provider's matrices take the same, compact room.
    """

    seconds: IntMatrix
    metres: IntMatrix
    unreachable: Mapping[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = self.seconds.shape[0]
        if self.seconds.shape != (n, n) or self.metres.shape != (n, n):
            msg = f"Expected two square matrices of one size, got {self.seconds.shape} and {self.metres.shape}."
            raise ValueError(msg)
        for name in ("seconds", "metres"):
            object.__setattr__(self, name, compact(getattr(self, name), name))

    @property
    def size(self) -> int:
        return int(self.seconds.shape[0])


def compact(matrix: npt.NDArray[Any], name: str = "matrix") -> IntMatrix:
    """``matrix`` as :data:`MATRIX_DTYPE`, without a copy when it already is one.

    Raises
    ------
    ValueError
        A value does not fit (a provider's bug: no day has 68 years of travel).
    """
    if matrix.dtype == MATRIX_DTYPE:
        return matrix
    limits = np.iinfo(MATRIX_DTYPE)
    if matrix.size and (matrix.min() < limits.min or matrix.max() > limits.max):
        msg = f"Expected {name} values within {limits.min}..{limits.max}, got {matrix.min()}..{matrix.max()}."
        raise ValueError(msg)
    return matrix.astype(MATRIX_DTYPE)


class TravelProvider(Protocol):
    """Anything that turns points into travel matrices for one mode."""

    def matrix(self, points: Sequence[GeoPoint], mode: Mode) -> TravelMatrix:
        """Matrices over ``points`` in that order, for ``mode``."""
        ...

    def describe(self) -> dict[str, Any]:
        """The ``travel`` block of plan.json: which model, with which parameters."""
        ...

    def route_geometry(self, points: Sequence[GeoPoint], mode: Mode) -> list[GeoPoint]:
        """The line to draw through ``points`` in order (along the roads where known)."""
        ...


@dataclass(frozen=True, slots=True)
class FixedMatrixProvider:
    """Matrices given up front (benchmarks, tests): points are looked up by position.

    ``index`` maps each point to its row; every mode uses the same matrix.
    """

    seconds: npt.NDArray[np.integer[Any]]
    metres: npt.NDArray[np.integer[Any]]
    index: Mapping[GeoPoint, int]
    name: str = "fixed-matrix"

    def matrix(self, points: Sequence[GeoPoint], mode: Mode) -> TravelMatrix:
        rows = np.array([self.index[p] for p in points], dtype=np.int64)
        return TravelMatrix(
            seconds=compact(self.seconds[np.ix_(rows, rows)], "seconds"),
            metres=compact(self.metres[np.ix_(rows, rows)], "metres"),
        )

    def describe(self) -> dict[str, Any]:
        return {"model": self.name}

    def route_geometry(self, points: Sequence[GeoPoint], mode: Mode) -> list[GeoPoint]:
        """No geometry behind a bare matrix: straight segments between the points."""
        return list(points)


#: OSRM profiles that ship with osrm-bindings and that FieldRoute prepares.
ROAD_PROFILES = ("car", "bicycle", "foot")


#: Which OSRM profile serves each agent mode; None means straight-line estimate.
MODE_PROFILES: Mapping[Mode, str | None] = {
    Mode.CAR: "car",
    Mode.EBIKE: "bicycle",
    Mode.WALK: "foot",
    Mode.TRANSIT: None,
}


MODE_BY_PROFILE: Mapping[str, Mode] = {p: m for m, p in MODE_PROFILES.items() if p}


DEFAULT_SNAP_LIMIT_M = 300.0


DEFAULT_EBIKE_SPEED_FACTOR = 1.3
