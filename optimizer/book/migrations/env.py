"""Alembic environment of the book: runs on the engine FieldRoute hands in.

No alembic.ini: ``optimizer.book.db.upgrade`` builds the configuration in code and
passes its engine in ``config.attributes``, so the URL is resolved once, the FieldRoute
way (--db, FIELDROUTE_DB, [book] url).
"""

from __future__ import annotations

from alembic import context

from optimizer.book.models import Base

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite alters tables by copying them; batch mode lets later migrations do that.
        render_as_batch=True,
        compare_type=True,
    )
    context.run_migrations()
