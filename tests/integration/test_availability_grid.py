"""The availability grid on PostgreSQL: every status, held checkouts, cPanel-only addresses,
reserved patterns, invalid names, and suggestions that are always free."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from api.services.availability import check_grid
from api.services.ordering import WantedAddress, place
from core.availability import Cell
from store.availability import facts, orderable_domain
from core.errors import BusinessError
from store.models import CpanelInventory, DomainBackup, ReservedName, Subscription
from tests.support import make_client, make_domain, utcnow


async def grid(sessions, names, domains, **kw):
    async with sessions() as session:
        cells = await check_grid(session, names, [d.name for d in domains], max_names=10, max_domains=20, **kw)
    return {(c.name, c.domain_ascii): c for c in cells}


async def test_every_status_and_free_suggestions(pg_sessions, pg_settings, sandboxes):
    main, other = await make_domain(pg_sessions, sandboxes), await make_domain(pg_sessions, sandboxes)
    backup = await make_domain(pg_sessions, sandboxes, listed=False)
    buyer, holder = await make_client(pg_sessions), await make_client(pg_sessions)
    async with pg_sessions.begin() as session:
        session.add(Subscription(address=f"mike@{main.name}", local_part="mike", domain_id=main.id, kind="forwarder",
                                 client_id=buyer.id, term_years=1, status="active", workflow_id="w"))
        session.add(CpanelInventory(domain_id=main.id, local_part="carol", kind="forwarder",
                                    synced_at=datetime.now(timezone.utc)))
        session.add(CpanelInventory(domain_id=main.id, local_part="mike", kind="forwarder",  # ours: still "taken"
                                    synced_at=datetime.now(timezone.utc)))
        session.add(CpanelInventory(domain_id=main.id, local_part="mike2", kind="mailbox",
                                    synced_at=datetime.now(timezone.utc)))
        session.add(ReservedName(domain_id=other.id, pattern="team*"))
        session.add(DomainBackup(domain_id=main.id, backup_id=backup.id, position=1))
    async with pg_sessions.begin() as session:  # a checkout in progress holds this one
        holder = await session.merge(holder)
        await place(session, pg_settings, holder,
                    [WantedAddress("anna", other.name, "forwarder", 1, "a@x.example")], utcnow())

    cells = await grid(pg_sessions, ["Mike", "carol", "anna", "teamlead", "postmaster", "bob", "bad name"],
                       [main, other], initial="G")
    status = {key: c.status for key, c in cells.items()}
    assert status[("mike", main.name)] is Cell.TAKEN
    assert status[("carol", main.name)] is Cell.EXISTS
    assert status[("anna", other.name)] is Cell.TAKEN            # held by a checkout
    assert status[("teamlead", other.name)] is Cell.RESERVED     # the domain's own prefix pattern
    assert status[("teamlead", main.name)] is Cell.AVAILABLE
    assert status[("bob", main.name)] is Cell.AVAILABLE
    assert status[("bad name", main.name)] is Cell.INVALID
    assert "letters" in cells[("bad name", main.name)].reason

    offers = cells[("mike", main.name)].suggestions
    assert offers[0] == f"mike@{backup.name}"                   # the backup domain comes first
    assert f"mike2@{main.name}" not in offers                   # exists on cPanel: never offered
    assert f"mike.g@{main.name}" in offers and len(offers) <= 5
    every_offer = [o for c in cells.values() for o in c.suggestions]
    assert every_offer
    async with pg_sessions() as session:                        # each offer really is free
        for offer in every_offer:
            name, _, domain_name = offer.partition("@")
            domain = await orderable_domain(session, domain_name)
            known = await facts(session, [name], [domain])
            assert known.status(domain.id, name) is Cell.AVAILABLE, offer

    # an offered backup domain can be ordered although it is not in the catalog
    async with pg_sessions.begin() as session:
        buyer = await session.merge(buyer)
        await place(session, pg_settings, buyer, [WantedAddress("mike", backup.name, "forwarder", 1, "m@x.example")],
                    utcnow())


async def test_grid_refuses_bad_requests_by_name(pg_sessions, sandboxes):
    domain = await make_domain(pg_sessions, sandboxes)
    unlisted = await make_domain(pg_sessions, sandboxes, listed=False)
    for names, domains, code in [
        ([], [domain], "names_empty"), (["a"] * 11, [domain], "names_too_many"),
        (["a"], [], "domains_empty"), (["a"], [unlisted], "domain_unknown"),
    ]:
        with pytest.raises(BusinessError) as err:
            await grid(pg_sessions, names, domains)
        assert err.value.code == code
    with pytest.raises(BusinessError) as err:
        async with pg_sessions() as session:
            await check_grid(session, ["a"], [f"d{i}.org" for i in range(21)], max_names=10, max_domains=20)
    assert err.value.code == "domains_too_many"


async def test_cached_portfolio_sees_new_domains_after_its_refresh_interval(pg_sessions, sandboxes):
    from api.services.availability import Portfolio

    first = await make_domain(pg_sessions, sandboxes)
    stale, fresh = Portfolio(ttl=3600), Portfolio(ttl=0)
    async with pg_sessions() as session:
        await stale.fresh(session)
    later = await make_domain(pg_sessions, sandboxes)
    async with pg_sessions() as session:
        with pytest.raises(BusinessError):  # within the interval the new domain is not known yet
            await check_grid(session, ["x"], [later.name], max_names=10, max_domains=20, portfolio=stale)
        cells = await check_grid(session, ["x"], [first.name, later.name], max_names=10, max_domains=20,
                                 portfolio=fresh)
    assert [c.status for c in cells] == [Cell.AVAILABLE, Cell.AVAILABLE]
