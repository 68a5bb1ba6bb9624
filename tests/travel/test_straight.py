"""The calibrated straight-line model: overhead + seconds per great-circle km."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from optimizer.domain import GeoPoint, Mode
from optimizer.errors import ConfigurationError
from optimizer.settings import Settings
from optimizer.travel.straight import DEFAULT_PROFILES, ModeProfile, StraightLineModel, haversine_m

A = GeoPoint(47.1410, 9.5215)
B = GeoPoint(47.1650, 9.5100)


def test_time_is_overhead_plus_seconds_per_km() -> None:
    model = StraightLineModel(1.3, {Mode.CAR: ModeProfile(90.0, overhead_s=120)})
    m = model.matrix([A, B, A], Mode.CAR)
    km = float(haversine_m([A.as_latlon()], [B.as_latlon()])[0, 0]) / 1000
    assert m.seconds[0, 1] == math.ceil(120 + 90 * km)
    assert m.seconds[1, 0] == m.seconds[0, 1]
    assert m.metres[0, 1] == round(km * 1000 * 1.3)
    # no trip, no overhead: same place, same point
    assert m.seconds[0, 2] == 0
    assert np.all(np.diag(m.seconds) == 0)


def test_calibrated_defaults() -> None:
    car = DEFAULT_PROFILES[Mode.CAR]
    assert 60 <= car.s_per_km <= 120
    assert 60 <= car.overhead_s <= 240
    assert DEFAULT_PROFILES[Mode.WALK].s_per_km > DEFAULT_PROFILES[Mode.EBIKE].s_per_km
    assert DEFAULT_PROFILES[Mode.TRANSIT].overhead_s >= 300
    assert car.speed_kmh == pytest.approx(3600 / car.s_per_km)


def test_describe_says_straight_line_with_its_parameters() -> None:
    d = StraightLineModel().describe()
    assert d["model"] == "straight-line"
    assert d["note"] == "travel times estimated from straight-line distances"
    assert d["s_per_km"]["car"] == DEFAULT_PROFILES[Mode.CAR].s_per_km
    assert d["overhead_s"]["transit"] == DEFAULT_PROFILES[Mode.TRANSIT].overhead_s


@pytest.mark.parametrize(
    ("s_per_km", "overhead_s", "match"),
    [
        (5.0, 0, "Expected 10 to 7200 seconds per km"),  # 720 km/h
        (9000.0, 0, "Expected 10 to 7200 seconds per km"),  # 0.4 km/h
        (90.0, -1, "non-negative overhead"),
    ],
)
def test_profile_checks_itself(s_per_km: float, overhead_s: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ModeProfile(s_per_km, overhead_s)


def test_toml_reads_s_per_km_and_the_older_speed(tmp_path: Path) -> None:
    cfg = tmp_path / "fieldroute.toml"
    cfg.write_text(
        "[travel]\ndetour_factor = 1.5\n"
        "[travel.car]\ns_per_km = 100\noverhead_s = 60\n"
        "[travel.walk]\nspeed_kmh = 5\n",
        encoding="utf-8",
    )
    s = Settings.from_toml(cfg)
    assert s.travel.profiles[Mode.CAR] == ModeProfile(100.0, 60)
    # older form: road km (great-circle x detour) at speed_kmh
    assert s.travel.profiles[Mode.WALK].s_per_km == pytest.approx(3600 * 1.5 / 5)
    again = Settings.from_dict(s.to_dict())
    assert again.travel == s.travel


def test_toml_refuses_both_forms_at_once(tmp_path: Path) -> None:
    cfg = tmp_path / "fieldroute.toml"
    cfg.write_text("[travel.car]\ns_per_km = 100\nspeed_kmh = 30\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"\[travel.car\] give s_per_km or speed_kmh"):
        Settings.from_toml(cfg)
