"""The output folder: staged, atomic replacement and file modes.

Everything a run writes lands in a private staging folder first; only a complete plan
replaces the previous one."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600
SHARED_DIR, SHARED_FILE = 0o755, 0o644


@contextmanager
def staged_dir(out: Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``out``; on success it replaces ``out`` whole."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(old)
    tmp.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def check_writable(out: Path) -> None:
    """Fail before any slow work if the output folder cannot be created or written."""
    parent = out.parent
    probe_dir = parent
    while not probe_dir.exists():
        probe_dir = probe_dir.parent
    if not os.access(probe_dir, os.W_OK) or (out.exists() and not out.is_dir()):
        msg = f"output folder {out} is not writable"
        raise PermissionError(msg)


def set_permissions(out: Path, *, share: bool) -> None:
    """Owner-only folders and files, or world-readable ones with ``share``.

    ``inputs/`` holds every input column unmasked and stays owner-only either way.
    """
    for root, dirs, files in os.walk(out):
        here = Path(root)
        private = not share or here == out / "inputs" or out / "inputs" in here.parents
        here.chmod(PRIVATE_DIR if private else SHARED_DIR)
        for name in files:
            (here / name).chmod(PRIVATE_FILE if private else SHARED_FILE)
        for name in dirs:
            (here / name).chmod(PRIVATE_DIR if private else SHARED_DIR)
