"""Reserved names as people edit them: the operator's global list, a domain owner's own list, and
nobody else's; every change audited and visible in the next check."""
from __future__ import annotations

import re

from sqlalchemy import select, update

from store.models import AuditEntry, Client, Domain
from tests.support import make_domain, signed_in_http, unique


async def promote(pg_sessions, http, *, operator: bool = False, owns: Domain | None = None) -> int:
    me = (await http.get("/api/v1/auth/session")).json()["client"]["id"]
    async with pg_sessions.begin() as session:
        if operator:
            await session.execute(update(Client).where(Client.id == me).values(is_operator=True))
        if owns is not None:
            await session.execute(update(Domain).where(Domain.id == owns.id).values(owner_client_id=me))
    return me


def cell(grid: dict, name: str, domain: str) -> dict:
    return next(c for c in grid["cells"] if c["name"] == name and c["domain"] == domain)


async def test_operator_and_owner_lists_apply_to_the_next_check(live, pg_settings, pg_sessions, sandboxes):
    base = pg_settings.public_base_url
    mine, other = await make_domain(pg_sessions, sandboxes), await make_domain(pg_sessions, sandboxes)
    operator, oh = await signed_in_http(base)
    owner, wh = await signed_in_http(base)
    stranger, sh = await signed_in_http(base)
    await promote(pg_sessions, operator, operator=True)
    owner_id = await promote(pg_sessions, owner, owns=mine)
    prefix = unique("vip")

    r = await operator.post("/api/v1/reserved-names", headers=oh, json={"pattern": f" {prefix.upper()}* ",
                                                                           "reason": "premium names"})
    assert r.status_code == 201 and r.json()["pattern"] == f"{prefix}*" and r.json()["prefix"] is True
    global_id = r.json()["id"]
    r = await owner.post("/api/v1/reserved-names", headers=wh, json={"pattern": "Boss", "domain": mine.name})
    assert r.status_code == 201, r.text
    boss_id = r.json()["id"]

    params = {"names": f"{prefix}club,boss", "domains": f"{mine.name},{other.name}"}
    seen_by_operator = (await operator.get("/api/v1/availability", params=params)).json()
    assert cell(seen_by_operator, f"{prefix}club", other.name)["status"] == "reserved"
    assert cell(seen_by_operator, "boss", mine.name)["status"] == "reserved"
    assert cell(seen_by_operator, "boss", other.name)["status"] == "available"
    seen_by_customer = (await stranger.get("/api/v1/availability", params=params)).json()
    assert cell(seen_by_customer, "boss", mine.name)["status"] == "unavailable"  # no reason given out

    # the owner sees their list, and nobody else's
    listed = (await owner.get("/api/v1/reserved-names", params={"domain": mine.name})).json()
    assert [e["pattern"] for e in listed["entries"]] == ["boss"]
    for response, code in [
        (await stranger.get("/api/v1/reserved-names", params={"domain": mine.name}), "domain_not_yours"),
        (await owner.get("/api/v1/reserved-names"), "forbidden"),
        (await stranger.post("/api/v1/reserved-names", headers=sh, json={"pattern": "x", "domain": mine.name}),
         "domain_not_yours"),
        (await owner.delete(f"/api/v1/reserved-names/{global_id}", headers=wh), "entry_unknown"),
        (await stranger.delete(f"/api/v1/reserved-names/{boss_id}", headers=sh), "entry_unknown"),
        (await owner.post("/api/v1/reserved-names", headers=wh, json={"pattern": "bo ss", "domain": mine.name}),
         "local_part_bad_characters"),
        (await owner.post("/api/v1/reserved-names", headers=wh, json={"pattern": "*", "domain": mine.name}),
         "pattern_empty"),
        (await owner.post("/api/v1/reserved-names", headers=wh, json={"pattern": "BOSS", "domain": mine.name}),
         "pattern_exists"),
    ]:
        assert 400 <= response.status_code < 500 and response.json()["code"] == code, (code, response.text)

    assert (await owner.delete(f"/api/v1/reserved-names/{boss_id}", headers=wh)).status_code == 204
    again = (await operator.get("/api/v1/availability", params=params)).json()
    assert cell(again, "boss", mine.name)["status"] == "available"

    async with pg_sessions() as session:
        trail = (await session.execute(select(AuditEntry.actor, AuditEntry.action).where(
            AuditEntry.entity == "reserved_name", AuditEntry.entity_id == str(boss_id)).order_by(AuditEntry.id))).all()
    assert trail == [(f"client:{owner_id}", "reserved.add"), (f"client:{owner_id}", "reserved.remove")]
    for http in (operator, owner, stranger):
        await http.aclose()


async def test_operator_edits_the_global_list_on_its_page(live, pg_settings, pg_sessions):
    operator, _ = await signed_in_http(pg_settings.public_base_url)
    await promote(pg_sessions, operator, operator=True)
    page = await operator.get("/reserved")
    assert page.status_code == 200 and "global list" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    name = unique("staff")
    added = await operator.post("/reserved", data={"csrf": csrf, "domain": "", "pattern": name, "reason": "<b>x</b>"},
                                follow_redirects=True)
    assert f"<code>{name}</code>" in added.text and "&lt;b&gt;x&lt;/b&gt;" in added.text
    refused = await operator.post("/reserved", data={"csrf": csrf, "domain": "", "pattern": "a..b"})
    assert refused.status_code == 422 and 'role="alert"' in refused.text
    entry = re.search(rf'<code>{name}</code>.*?action="/reserved/(\d+)/remove"', added.text, re.S).group(1)
    removed = await operator.post(f"/reserved/{entry}/remove", data={"csrf": csrf}, follow_redirects=True)
    assert f"<code>{name}</code>" not in removed.text
    await operator.aclose()
