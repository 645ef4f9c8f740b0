"""Persistence: SQLAlchemy 2 models, repositories, read models, sessions and Alembic migrations."""
