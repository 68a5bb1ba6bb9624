"""optimizer.settings: TOML in, frozen sections out; every mistake named by key."""

from __future__ import annotations

import pytest

from optimizer.errors import ConfigurationError
from optimizer.settings import Settings
from tests.helpers import ROOT


def test_defaults_need_no_file() -> None:
    settings = Settings()
    assert settings.solver.time_limit_s > 0
    assert settings.solver.workers in (1, 2)


def test_shipped_sample_settings_load() -> None:
    for path in [
        ROOT / "data" / "fieldroute.toml",
        ROOT / "data" / "liechtenstein" / "fieldroute.toml",
    ]:
        Settings.from_toml(path)


def test_missing_keys_fall_back_to_defaults(tmp_path) -> None:
    path = tmp_path / "s.toml"
    path.write_text("[solver]\ntime_limit_s = 3\n", encoding="utf-8")
    settings = Settings.from_toml(path)
    assert settings.solver.time_limit_s == 3
    assert settings.solver.metaheuristic == Settings().solver.metaheuristic


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[solver]\ntime_limt_s = 3\n", "time_limt_s"),
        ("[solvr]\n", "solvr"),
        ("[solver]\nmetaheuristic = 'MAGIC'\n", "MAGIC"),
        ("[solver]\ntime_limit_s = -1\n", "time_limit_s"),
        ("[solver\n", "s.toml"),
    ],
)
def test_mistakes_name_the_key_or_file(tmp_path, text: str, match: str) -> None:
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=match):
        Settings.from_toml(path)
