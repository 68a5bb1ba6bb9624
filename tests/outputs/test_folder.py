"""The output folder: safe names, what --out may replace, the swap, leftovers, faults."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from optimizer.day import DayPlan
from optimizer.errors import ConfigurationError, EnvironmentFaultError
from optimizer.outputs import folder
from optimizer.outputs.export import write_plan
from optimizer.outputs.folder import (
    MARKER,
    check_out_folder,
    clean_stale,
    safe_name,
    unique_names,
)
from tests.helpers import ROOT
from tests.hostile import PAYLOADS

ODD_IDS = (*PAYLOADS, "nul\x00id", "new\nline", ".", "..", "", "trailing.", "\u202eevil")


@pytest.mark.parametrize("raw", ODD_IDS)
def test_safe_name_is_one_plain_file_name(raw: str) -> None:
    name = safe_name(raw)
    assert name and name not in (".", "..") and not name.startswith(".")
    assert not set(name) & {"/", "\\", "\x00", "\n", "\r", ":", "\u202e"}
    assert len(name.encode("utf-8")) <= 171  # 40 characters of 4 bytes, "-", 10
    assert safe_name(raw) == name  # the same id always gets the same name


def test_safe_name_stays_readable() -> None:
    assert safe_name("V0001").startswith("V0001-")
    assert safe_name("长" * 90).startswith("长" * 40 + "-")


def test_distinct_ids_get_distinct_names_also_ignoring_case() -> None:
    ids = ["V0001", "v0001", "V0001\u200b", "Ｖ0001", "a/b", "a-b", "a_b", "a b", *ODD_IDS]
    names = unique_names(ids)
    assert len({n.casefold() for n in names.values()}) == len(set(ids))


def test_a_name_collision_is_never_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(folder, "safe_name", lambda raw: "same")
    with pytest.raises(ValueError, match="map to one file name"):
        unique_names(["a", "b"])


# --- what --out may name -----------------------------------------------------------------


def _plan_folder(day: DayPlan, out: Path) -> None:
    write_plan(day, out)
    assert (out / MARKER).is_file()


def test_a_folder_fieldroute_did_not_write_is_refused(small_day: DayPlan, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="did not write"):
        check_out_folder(mine)
    with pytest.raises(ConfigurationError, match="did not write"):
        write_plan(small_day, mine)
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]  # no staging left


def test_an_empty_folder_and_an_own_plan_folder_are_replaced(
    small_day: DayPlan, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    check_out_folder(out)
    _plan_folder(small_day, out)
    (out / "extra.txt").write_text("x", encoding="utf-8")
    check_out_folder(out)
    _plan_folder(small_day, out)
    assert not (out / "extra.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_out_holding_an_input_file_is_refused(small_day: DayPlan, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _plan_folder(small_day, out)
    visits = out / "visits.csv"
    visits.write_text("visit_id\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="holds the input file"):
        check_out_folder(out, inputs=[visits])
    with pytest.raises(ConfigurationError, match="holds the input file"):
        check_out_folder(tmp_path, inputs=[visits])


def test_out_dot_under_a_file_a_file_or_a_link_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    for out, fragment in [
        (".", "folder you are working in"),
        ("..", "folder you are working in"),
        ("afile/out", "afile is a file"),
        ("afile", "is a file"),
        ("link", "symbolic link"),
    ]:
        with pytest.raises(ConfigurationError, match=fragment):
            check_out_folder(Path(out))


# --- the swap ----------------------------------------------------------------------------


def test_out_holds_a_whole_plan_at_every_rename(
    small_day: DayPlan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After every rename-like call of the swap, --out holds the old or the new plan."""
    out = tmp_path / "out"
    _plan_folder(small_day, out)
    seen: list[str] = []

    def check(what: str) -> None:
        seen.append(what)
        assert (out / "plan.json").is_file(), f"no plan under --out after {what}"

    def spy(name: str, real: object) -> object:
        def wrapped(*args: object, **kwargs: object) -> object:
            result = real(*args, **kwargs)  # type: ignore[operator]
            check(name)
            return result

        return wrapped

    monkeypatch.setattr(os, "rename", spy("os.rename", os.rename))
    monkeypatch.setattr(os, "replace", spy("os.replace", os.replace))
    monkeypatch.setattr(Path, "rename", spy("Path.rename", Path.rename))
    monkeypatch.setattr(Path, "replace", spy("Path.replace", Path.replace))
    if getattr(folder, "renameat2", None) is not None:
        monkeypatch.setattr(folder, "renameat2", spy("renameat2", folder.renameat2))
    write_plan(small_day, out)
    assert seen  # the swap went through one of them
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_without_an_exchange_a_crash_between_renames_is_mended(
    small_day: DayPlan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    _plan_folder(small_day, out)
    first = (out / "plan.json").read_bytes()
    monkeypatch.setattr(folder, "renameat2", None)
    real = Path.rename
    calls: list[Path] = []

    class Killed(BaseException):
        pass

    def dies_on_second(self: Path, target: Path) -> Path:
        calls.append(self)
        if len(calls) == 2:
            raise Killed
        return real(self, target)

    monkeypatch.setattr(Path, "rename", dies_on_second)
    with pytest.raises(Killed):
        write_plan(small_day, out)
    assert not out.exists()  # the moment the exchange exists to avoid
    monkeypatch.setattr(Path, "rename", real)
    clean_stale(out)
    assert (out / "plan.json").read_bytes() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_staging_files_are_private_from_their_creation(small_day: DayPlan, tmp_path: Path) -> None:
    modes: dict[str, int] = {}

    def probe(_: DayPlan, staging: Path) -> list[Path]:
        for path in [staging, *staging.rglob("*")]:
            modes[str(path.relative_to(staging))] = stat.S_IMODE(path.stat().st_mode)
        return []

    write_plan(small_day, tmp_path / "out", renderers=[probe], share=True)
    assert modes["."] == 0o700 and modes["inputs"] == 0o700
    files = {k: m for k, m in modes.items() if k not in (".", "inputs")}
    assert files and all(m == 0o600 for m in files.values()), files


_KILLED_RUN = """
import os, signal, sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from tests.helpers import DATE, FAST, make_agent, make_visit
from optimizer.pipeline import plan_day
from optimizer.outputs.export import write_plan
day = plan_day((make_visit("V1"),), (make_agent("A1"),), FAST, date=DATE)
def die(_day, _out):
    os.kill(os.getpid(), signal.SIGKILL)
write_plan(day, Path(sys.argv[1]), renderers=[die])
"""


def test_a_killed_run_leaves_private_staging_that_the_next_run_removes(
    small_day: DayPlan, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    _plan_folder(small_day, out)
    run = subprocess.run(
        [sys.executable, "-c", _KILLED_RUN, str(out), str(ROOT)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        check=False,
    )
    assert run.returncode == -9, run.stderr
    left = [p for p in tmp_path.iterdir() if p.name != "out"]
    assert len(left) == 1
    for path in [left[0], *left[0].rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
    assert (out / "plan.json").is_file()  # the previous plan stood throughout
    write_plan(small_day, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


# --- environment faults ------------------------------------------------------------------


def test_disk_full_names_the_file_and_leaves_nothing(small_day: DayPlan, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _plan_folder(small_day, out)
    before = (out / "plan.json").read_bytes()

    def full(_: DayPlan, staging: Path) -> list[Path]:
        target = staging / "itineraries.csv"
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))

    with pytest.raises(EnvironmentFaultError) as caught:
        write_plan(small_day, out, renderers=[full])
    message = str(caught.value)
    assert "No space left on device" in message and str(out / "itineraries.csv") in message
    assert "unchanged" in message and EnvironmentFaultError.exit_code == 5
    assert (out / "plan.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
