"""Mailbox usage as cPanel's `Email::list_pops_with_disk` answers it (bytes and MB, a null or
"unlimited" quota), read by our client; the read model keeps the newest reading; migration 0017."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import httpx
from sqlalchemy import create_engine, inspect

from providers.cpanel.client import CpanelClient, _usage
from providers.cpanel.protocol import AutoResponder, MailboxUsage
from providers.cpanel.sandbox import create_app


def _client_and_state():
    app = create_app(token="T")
    return (CpanelClient("http://cpanel.test", "mailmkt", "T", transport=httpx.ASGITransport(app=app)),
            app.state.sandbox)


async def test_the_sandbox_lists_disk_use_in_cpanels_shape_and_the_client_reads_it():
    client, state = _client_and_state()
    await client.add_pop("box", "ours.org", "a strong password", 250)
    await client.add_pop("open", "ours.org", "a strong password", 0)
    await client.add_pop("else", "theirs.org", "a strong password", 100)
    state.pops["box@ours.org"]["used_bytes"] = 50 * 1048576 + 5

    rows = (await client._http.get("/execute/Email/list_pops_with_disk", params={"domain": "ours.org"})).json()
    assert rows["status"] == 1 and rows["metadata"] == {"transformed": 1}
    box, unlimited = rows["data"]
    assert (box["email"], box["user"], box["domain"], box["login"]) == ("box@ours.org", "box", "ours.org", "box@ours.org")
    assert box["_diskquota"] == str(250 * 1048576) and box["diskquota"] == "250.00" and box["humandiskquota"] == "250 MB"
    assert box["_diskused"] == 50 * 1048576 + 5 and box["diskused"] == 50.0 and box["diskusedpercent"] == 20
    assert unlimited["_diskquota"] is None and unlimited["diskquota"] == "unlimited"
    assert unlimited["humandiskquota"] == "None" and unlimited["humandiskused"] == "None"

    usages = await client.list_pops_with_disk("ours.org")
    assert usages == {"box@ours.org": MailboxUsage(50 * 1048576 + 5, 250), "open@ours.org": MailboxUsage(0, None)}
    assert usages["box@ours.org"].used_mb == 50.0
    assert set(await client.list_pops_with_disk()) == {"box@ours.org", "open@ours.org", "else@theirs.org"}
    assert await client.mailbox_usage("box@ours.org") == usages["box@ours.org"]
    assert await client.mailbox_usage("gone@ours.org") is None
    await client.aclose()


def test_the_client_reads_cpanels_own_rows_strings_and_nulls_alike():
    # as cPanel's own interface tests list them: byte counts as strings, an unlimited quota null
    assert _usage({"email": "a@x.org", "_diskquota": "268435456", "diskquota": "256.00", "_diskused": 0,
                   "diskused": 0, "humandiskused": "None"}) == MailboxUsage(0, 256)
    assert _usage({"email": "b@x.org", "_diskquota": None, "diskquota": "unlimited", "_diskused": "1048576"}) \
        == MailboxUsage(1048576, None)
    assert _usage({"email": "c@x.org", "_diskquota": 0, "_diskused": 10}) == MailboxUsage(10, None)
    assert _usage({"email": "d@x.org", "diskquota": "unlimited", "diskused": "1.5"}) == MailboxUsage(1572864, None)


async def test_automatic_replies_are_listed_per_domain_with_their_subjects():
    client, _ = _client_and_state()
    now = int(time.time())
    await client.add_auto_responder("box@ours.org", "Box", AutoResponder("Away", "Gone.", 24, now, now + 3600))
    await client.add_auto_responder("box@theirs.org", "Box", AutoResponder("Out", "Gone.", 24, now, now + 3600))
    assert await client.list_auto_responders("ours.org") == {"box@ours.org": "Away"}
    await client.aclose()


async def test_the_read_model_keeps_the_newest_reading_and_a_sync_replaces_its_domain(tmp_path):
    from store import mailbox_usage as readings
    from store.db import make_engine, make_sessionmaker
    from store.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'reads.db'}"
    upgrade(url)
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'reads.db'}")
    sessions = make_sessionmaker(engine)
    now = datetime(2026, 12, 2, 1, 0, tzinfo=timezone.utc)
    async with sessions.begin() as session:
        await readings.record_usage(session, "Box@ours.org", readings.Usage(10, 250), now)
        await readings.record_autoresponder(session, "box@ours.org", "Away")
        await readings.record_usage(session, "old@ours.org", readings.Usage(1, None), now - timedelta(hours=1))
    async with sessions.begin() as session:   # an older reading (a slow sync) does not overwrite a newer one
        await readings.record_usage(session, "box@ours.org", readings.Usage(99, 250), now - timedelta(minutes=5))
    async with sessions() as session:
        box = await readings.reading(session, "box@ours.org")
    assert (box.used_bytes, box.quota_mb, box.autoresponder_subject, box.domain) == (10, 250, "Away", "ours.org")

    async with sessions.begin() as session:   # a sync read at `now + 1 min`: old@ is gone from cPanel
        await readings.replace_domain(session, "ours.org", {"box@ours.org": (readings.Usage(20, 250), "")},
                                      now + timedelta(minutes=1))
    async with sessions() as session:
        box = await readings.reading(session, "box@ours.org")
        assert await readings.reading(session, "old@ours.org") is None
    assert (box.used_bytes, box.used_mb, box.autoresponder_subject) == (20, 0.0, "")

    async with sessions.begin() as session:   # a sync cPanel would not list replies for keeps the one on file
        await readings.record_autoresponder(session, "box@ours.org", "Back soon")
        await readings.replace_domain(session, "ours.org", {"box@ours.org": (readings.Usage(30, 250), None)},
                                      now + timedelta(minutes=2))
    async with sessions() as session:
        box = await readings.reading(session, "box@ours.org")
    assert (box.used_bytes, box.autoresponder_subject) == (30, "Back soon")
    await engine.dispose()


def test_migration_0017_creates_the_read_model_and_goes_back(tmp_path):
    from store.migrate import alembic_config, upgrade
    from alembic import command

    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    engine = create_engine(url)
    assert {c["name"] for c in inspect(engine).get_columns("mailbox_usage")} == {
        "address", "domain", "used_bytes", "quota_mb", "autoresponder_subject", "read_at"}
    command.downgrade(alembic_config(url), "0016")
    assert "mailbox_usage" not in inspect(engine).get_table_names()
    upgrade(url)
    assert "mailbox_usage" in inspect(engine).get_table_names()
    engine.dispose()
