"""Opening the book: which database, its engine, its schema version, and its faults.

SQLite (the default, a file in the working folder) runs in WAL mode so readers never
wait for a writer; every write transaction starts with ``BEGIN IMMEDIATE`` so two
writers queue for the lock up front instead of failing halfway. PostgreSQL writers
lock the rows they change (``SELECT ... FOR UPDATE``) in the repository.

Driver errors are translated here into :class:`~optimizer.errors.BookError` (exit 3)
with what to do, never a traceback.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

from optimizer.errors import BookError, ConfigurationError
from optimizer.settings import DEFAULT_BOOK_FILE, BookSettings

MIGRATIONS = Path(__file__).parent / "migrations"
#: The environment variable naming the book (after --db, before [book] url).
URL_ENV = "FIELDROUTE_DB"


def resolve_url(
    cli_url: str | None, settings: BookSettings, env: Mapping[str, str] | None = None
) -> URL:
    """``--db``, else ``FIELDROUTE_DB``, else ``[book] url``, else ``fieldroute.db`` here.

    A bare path is a SQLite file. PostgreSQL URLs without a driver get psycopg (v3).
    """
    environ = os.environ if env is None else env
    text = cli_url or environ.get(URL_ENV, "") or settings.url or DEFAULT_BOOK_FILE
    if "://" not in text:
        return URL.create("sqlite", database=str(Path(text)))
    try:
        url = make_url(text)
    except exc.ArgumentError:
        msg = f"book URL {_safe(text)!r} is not a database URL; expected e.g. sqlite:///fieldroute.db or postgresql://user@host/db"
        raise ConfigurationError(msg) from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        msg = f"book URL {_safe(text)!r}: {url.get_backend_name()} is not supported; expected sqlite or postgresql"
        raise ConfigurationError(msg)
    return url


def _safe(text: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(text).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return text


def describe(url: URL) -> str:
    """The book's place in words for messages: a file path, or the URL without password."""
    if url.get_backend_name() == "sqlite":
        return str(url.database)
    return url.render_as_string(hide_password=True)


@dataclass(frozen=True, slots=True)
class Book:
    """An open book: its engine, and the engine that starts write transactions."""

    url: URL
    engine: Engine
    writer: Engine

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: committed whole at the end, or rolled back whole."""
        with (
            translate(self.url),
            Session(self.writer, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read transaction: one consistent snapshot on PostgreSQL and in WAL mode."""
        with (
            translate(self.url),
            Session(self.engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    def close(self) -> None:
        self.engine.dispose()


def open_book(url: URL, settings: BookSettings, *, create: bool = False) -> Book:
    """An engine for the book at ``url``; checks that it exists unless ``create``.

    Raises
    ------
    BookError
        No book there (and not ``create``), or the database cannot be reached.
    """
    timeout = settings.busy_timeout_s
    if url.get_backend_name() == "sqlite":
        path = Path(str(url.database))
        if not create and not path.exists():
            msg = f"no book at {path}: create it with `fieldroute book init` (or give --db)"
            raise BookError(msg)
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": timeout})
        _sqlite_events(engine, timeout)
    else:
        engine = create_engine(
            url,
            pool_pre_ping=True,
            # psycopg's own executemany (pipelined) beats one huge multi-VALUES text
            use_insertmanyvalues=False,
            connect_args={
                "connect_timeout": max(1, int(min(timeout, 30))),
                # a row lock held longer than this by another writer ends the wait
                # (added to any options the URL gives, e.g. a search_path)
                "options": " ".join(
                    filter(
                        None,
                        [_query_text(url, "options"), f"-c lock_timeout={int(timeout * 1000)}"],
                    )
                ),
                "application_name": "fieldroute",
            },
        )
    return Book(url, engine, engine.execution_options(book_write=True))


def _query_text(url: URL, key: str) -> str:
    value = url.query.get(key, "")
    return value if isinstance(value, str) else " ".join(value)


def _sqlite_events(engine: Engine, timeout: float) -> None:
    """WAL, foreign keys, a busy wait, and BEGIN IMMEDIATE for writers.

    pysqlite's own transaction handling is switched off (isolation_level None) so the
    BEGIN below is the one that counts, as SQLAlchemy's documentation recommends.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        write = conn.get_execution_options().get("book_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def translate(url: URL) -> Iterator[None]:
    """Driver faults -> BookError naming the book and what to do (exit 3)."""
    try:
        yield
    except exc.OperationalError as err:
        text = str(err.orig).strip().splitlines()[0] if err.orig else str(err)
        if "locked" in text or "lock timeout" in text:
            msg = f"the book at {describe(url)} stayed busy (another writer held it): {text}; try again"
        else:
            msg = f"the book at {describe(url)} cannot be used: {text}"
        raise BookError(msg) from None
    except exc.InterfaceError as err:
        msg = f"the book at {describe(url)} cannot be reached: {err.orig}"
        raise BookError(msg) from None


# --- schema: migrations only --------------------------------------------------------------


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The schema version this FieldRoute expects."""
    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(book: Book) -> str | None:
    with translate(book.url), book.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(book: Book) -> tuple[str | None, str]:
    """Create or upgrade the schema to head; returns (before, after)."""
    before = current_revision(book)
    with translate(book.url):
        command.upgrade(_alembic_config(book.writer), "head")
    return before, head_revision()


def check_schema(book: Book) -> None:
    """Refuse a book whose schema is not this FieldRoute's, saying how to mend it."""
    current, head = current_revision(book), head_revision()
    if current == head:
        return
    if current is None:
        msg = f"the book at {describe(book.url)} has no schema yet: run `fieldroute book init`"
    else:
        msg = (
            f"the book at {describe(book.url)} has schema {current}, this FieldRoute needs "
            f"{head}: run `fieldroute book init` to upgrade it"
        )
    raise BookError(msg)


def actor() -> str:
    """Who is acting: the OS user (a console user once the web console exists)."""
    try:
        return f"os:{getpass.getuser()}"
    except (OSError, KeyError):
        return f"os:uid-{os.getuid()}"


def empty_schema(url: str, name: str) -> str:
    """A PostgreSQL URL whose search_path is a new, empty schema (benchmarks, tests)."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {name} CASCADE")
            conn.exec_driver_sql(f"CREATE SCHEMA {name}")
    finally:
        engine.dispose()
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{name}"
