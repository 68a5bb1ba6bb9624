"""The schema comes from the migrations alone, and it is what the models describe."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from optimizer.book.db import check_schema, head_revision, open_book, resolve_url, upgrade
from optimizer.book.models import Base
from optimizer.errors import BookError, ConfigurationError
from optimizer.settings import BookSettings, Settings


def test_migrations_build_exactly_the_models(book_url: str) -> None:
    book = open_book(resolve_url(book_url, BookSettings()), BookSettings(), create=True)
    try:
        with pytest.raises(BookError, match="has no schema yet"):
            check_schema(book)
        assert upgrade(book) == (None, head_revision())
        check_schema(book)
        with book.engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
            )
        assert diff == []
    finally:
        book.close()


def test_url_order_is_flag_then_environment_then_settings_then_default() -> None:
    settings = BookSettings(url="from-settings.db")
    env = {"FIELDROUTE_DB": "postgresql://u@h/db"}
    assert resolve_url("flag.db", settings, env).database == "flag.db"
    assert resolve_url(None, settings, env).drivername == "postgresql+psycopg"
    assert resolve_url(None, settings, {}).database == "from-settings.db"
    assert resolve_url(None, BookSettings(), {}).database == "fieldroute.db"
    with pytest.raises(ConfigurationError, match="mysql is not supported"):
        resolve_url("mysql://u@h/db", settings, {})


def test_a_password_in_the_settings_file_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="holds a password"):
        Settings.from_dict({"book": {"url": "postgresql://u:secret@h/db"}})


def test_unreachable_server_is_a_book_error(tmp_path: Path) -> None:
    url = resolve_url("postgresql://nobody@127.0.0.1:1/none", BookSettings(busy_timeout_s=2), {})
    book = open_book(url, BookSettings(busy_timeout_s=2))
    with pytest.raises(BookError, match="cannot be used"):
        check_schema(book)
