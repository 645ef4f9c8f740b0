"""store/ stays split along its domains: no file over 500 lines, and the migrations build exactly the
tables the models describe (Alembic's autogenerate finds nothing to add, drop or alter)."""
from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

import store.models as models
from store.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]


def test_no_store_file_over_500_lines():
    long = {str(p.relative_to(ROOT)): n for p in (ROOT / "store").rglob("*.py")
            if "migrations" not in p.parts and (n := len(p.read_text().splitlines())) > 500}
    assert long == {}


def test_every_table_is_reexported_from_store_models():
    mapped = {m.class_.__name__ for m in models.Base.registry.mappers}
    assert mapped <= set(models.__all__)
    assert all(getattr(models, name).__module__.startswith("store.models") for name in mapped)


def test_migrations_match_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'schema.db'}"
    upgrade(url)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, models.Base.metadata) == []
    finally:
        engine.dispose()
