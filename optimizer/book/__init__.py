"""The case book: visits, agents, plans, outcomes and the audit log in a database.

SQLAlchemy and Alembic are imported only inside this wing (``db``, ``models``,
``repository``, ``migrations``); ``rules`` and ``outcomes`` are pure and can be used
without a database. Importing the package itself loads nothing.
"""
