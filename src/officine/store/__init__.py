"""Persistence: SQLAlchemy 2 models, Alembic migrations, SQLite by default, PostgreSQL by URL."""

from officine.store.db import Store, default_database_url

__all__ = ["Store", "default_database_url"]
