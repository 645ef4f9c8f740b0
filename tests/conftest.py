"""Session fixtures: provider sandboxes, a migrated database, the time-skipping Temporal server."""
from __future__ import annotations

import secrets
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import create_engine, text
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from store.db import make_engine, make_sessionmaker
from store.migrate import upgrade
from tests.support import PG_ADMIN_URL, TEST_SERVER, settings_for, start_sandboxes


@pytest.fixture(scope="session")
def sandboxes():
    boxes = start_sandboxes()
    yield boxes
    boxes.stop()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory) -> str:
    path: Path = tmp_path_factory.mktemp("db") / "mailmarket.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def pg_url():
    """A fresh PostgreSQL database for this run, migrated, dropped afterwards."""
    name = f"mm_test_{secrets.token_hex(4)}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def settings(sandboxes, sqlite_url):
    return settings_for(sandboxes, sqlite_url)


@pytest_asyncio.fixture(scope="session")
async def sessions(settings):
    engine = make_engine(settings.async_database_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def _time_skipping():
    return await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(TEST_SERVER), data_converter=pydantic_data_converter)


@pytest_asyncio.fixture
async def ts_env():
    """A time-skipping test server of the test's own. A shared one let one test's workflows (still
    running, on the same task queue) fire timers and activities while the next test skipped time,
    and a clock left locked by one test hung the ones after it."""
    env = await _time_skipping()
    yield env
    await env.shutdown()
