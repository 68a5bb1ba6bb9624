"""Alembic migrations of the case book: the only way its schema is made or changed."""
