from __future__ import annotations

import numpy as np
import pytest

from optimizer.domain import GeoPoint, Mode
from optimizer.travel.straight import ModeProfile, StraightLineModel, haversine_m


def test_known_distance() -> None:
    # Beijing Tiananmen to Shanghai People's Square: about 1,067 km great-circle.
    d = haversine_m([(39.9087, 116.3975)], [(31.2304, 121.4737)])[0, 0]
    assert d == pytest.approx(1_067_000, rel=0.005)


def test_matrix_properties() -> None:
    rng = np.random.default_rng(1)
    points = [GeoPoint(30 + rng.random() / 10, 104 + rng.random() / 10) for _ in range(30)]
    model = StraightLineModel(1.3)
    car = model.matrix(points, Mode.CAR)
    assert (np.diag(car.seconds) == 0).all() and (np.diag(car.metres) == 0).all()
    assert (car.seconds == car.seconds.T).all()
    assert car.seconds.dtype == np.int32  # compact (issue 11, item 12)
    walk = model.matrix(points, Mode.WALK)
    off = ~np.eye(30, dtype=bool)
    assert (walk.seconds[off] > car.seconds[off]).all()
    transit = model.matrix(points, Mode.TRANSIT)
    assert (transit.seconds[off] >= 300).all()


def test_rounding_is_up_and_detour_applies() -> None:
    # 100 s per great-circle km = 0.1 s per metre; the detour factor scales metres only
    a, b = GeoPoint(30.0, 104.0), GeoPoint(30.01, 104.0)
    plain = StraightLineModel(1.0, {Mode.CAR: ModeProfile(100.0)}).matrix([a, b], Mode.CAR)
    metres = haversine_m([(a.lat, a.lon)], [(b.lat, b.lon)])[0, 0]
    assert plain.seconds[0, 1] == int(np.ceil(metres / 10))
    twice = StraightLineModel(2.0, {Mode.CAR: ModeProfile(100.0)}).matrix([a, b], Mode.CAR)
    assert twice.metres[0, 1] == pytest.approx(2 * plain.metres[0, 1], abs=1)
    assert twice.seconds[0, 1] == plain.seconds[0, 1]


def test_matches_textbook_haversine() -> None:
    rng = np.random.default_rng(7)
    pts = np.column_stack([rng.uniform(-60, 60, 50), rng.uniform(-180, 180, 50)])
    lat, lon = np.radians(pts[:, 0]), np.radians(pts[:, 1])
    dlat = lat[None, :] - lat[:, None]
    dlon = lon[None, :] - lon[:, None]
    h = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
    textbook = 2 * 6_371_008.8 * np.arcsin(np.sqrt(h))
    assert np.abs(haversine_m(pts, pts) - textbook).max() < 1.0
