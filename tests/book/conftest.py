"""Book fixtures: every book test runs on SQLite and on a real PostgreSQL.

PostgreSQL comes from ``FIELDROUTE_TEST_PG`` (``eval "$(scripts/postgres start)"``), else
a throwaway server this session starts with ``scripts/postgres`` when PostgreSQL is
installed. Without one the PostgreSQL cases skip with a message, unless ``CI`` is set:
then a missing server fails the run, so CI can never pass on SQLite alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import ROOT

SCRIPT = ROOT / "scripts" / "postgres"


def _installed() -> bool:
    return shutil.which("initdb") is not None or any(
        Path("/usr/lib/postgresql").glob("*/bin/initdb")
    )


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A PostgreSQL URL for the session, or a skip (a failure with CI set)."""
    url = os.environ.get("FIELDROUTE_TEST_PG", "")
    if url:
        yield url
        return
    if not _installed():
        if os.environ.get("CI"):
            pytest.fail("CI is set but no PostgreSQL server: .ci/run must run scripts/postgres")
        pytest.skip(
            "PostgreSQL book tests skipped: no server found (set FIELDROUTE_TEST_PG, "
            'e.g. eval "$(scripts/postgres start)", or apt-get install postgresql)'
        )
    run = subprocess.run(
        ["bash", str(SCRIPT), "start"], capture_output=True, text=True, timeout=180, check=False
    )
    if run.returncode != 0:
        pytest.fail(f"scripts/postgres start failed:\n{run.stderr}")
    exports = dict(
        line.removeprefix("export ").split("=", 1)
        for line in run.stdout.splitlines()
        if line.startswith("export ")
    )
    try:
        yield exports["FIELDROUTE_TEST_PG"]
    finally:
        subprocess.run(
            ["bash", str(SCRIPT), "stop", exports["FIELDROUTE_PG_DIR"]],
            capture_output=True,
            check=False,
        )


@pytest.fixture(params=["sqlite", "postgresql"])
def book_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty place for a book: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fieldroute.db'}"
        return
    import sqlalchemy as sa

    server = request.getfixturevalue("pg_server")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in server else "?"
    try:
        yield f"{server}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
