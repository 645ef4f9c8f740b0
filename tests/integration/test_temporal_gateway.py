"""The gateway's promise when Temporal cannot take a start: a committed order is never left without
its workflow. An order placed while the workflow service is down is cancelled and answered 503, its
addresses free again; a renewal submitted then is cancelled (its invoice credited) and answered 503,
and the renewal invoice already sent stays payable, its workflow running."""
from __future__ import annotations

import pytest
from sqlalchemy import select, update
from temporalio.service import RPCError, RPCStatusCode

from api.services.checkout import Checkout
from api.services.ordering import WantedAddress
from api.services.renewals import Choice, Renewals
from core.errors import BusinessError
from store.models import Client, Invoice, Order
from tests.integration.test_renewals import eventually, renewing, soon  # noqa: F401 (a fixture)
from tests.support import make_client, make_domain, unique
from workflows.contracts import order_workflow_id


class _Down:
    """A Temporal client whose server does not answer: every call fails as the real client's does."""

    async def start_workflow(self, *args, **kwargs):
        raise RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b"")

    def get_workflow_handle(self, workflow_id: str):
        return _DownHandle(workflow_id)


class _DownHandle:
    def __init__(self, workflow_id: str):
        self.id = workflow_id

    async def signal(self, *args, **kwargs):
        raise RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b"")


async def test_a_renewal_whose_workflow_cannot_start_is_cancelled_and_answered_503(soon, pg_sessions, sandboxes,  # noqa: F811
                                                                                 dev_env):
    buyer, _, me, address, _, _ = await renewing(soon, pg_sessions, sandboxes)
    sent = (await buyer.get("/api/v1/renewals")).json()["addresses"][0]["open_order"]["id"]
    async with pg_sessions() as session:
        client = await session.get(Client, me["id"])
    assert client is not None

    with pytest.raises(BusinessError) as refused:
        await Renewals(soon, pg_sessions, _Down()).submit(client, [Choice(address, "confirm", 1)])
    assert (refused.value.code, refused.value.status) == ("service_unavailable", 503)

    async with pg_sessions() as session:
        mine = list((await session.execute(select(Order).where(Order.client_id == me["id"]))).scalars())
        newest = max(mine, key=lambda o: o.id)
        credited = (await session.execute(select(Invoice).where(Invoice.order_id == newest.id))).scalar_one()
    assert newest.id != sent and newest.status == "cancelled" and credited.status == "cancelled"

    async def has_workflow(order_id: int):
        try:
            return await dev_env.client.get_workflow_handle(order_workflow_id(order_id)).describe()
        except RPCError:
            return None

    for order in mine:   # every order still open has a workflow; the one sent by email is still payable
        if order.status not in ("cancelled", "paid"):
            await eventually(lambda: has_workflow(order.id), f"order {order.id}'s workflow")
    assert next(o for o in mine if o.id == sent).status == "pending_payment"
    assert (await buyer.get("/api/v1/renewals")).json()["addresses"][0]["open_order"]["id"] == sent


@pytest.mark.parametrize("mode", ["prepaid", "postpaid", "exempt"])
async def test_an_order_whose_workflow_cannot_start_is_cancelled_and_its_address_is_free_again(
        live, pg_settings, pg_sessions, sandboxes, dev_env, mode):
    domain = await make_domain(pg_sessions, sandboxes)
    client = await make_client(pg_sessions)
    async with pg_sessions.begin() as session:   # on account, an order opens invoiced or exempt
        await session.execute(update(Client).where(Client.id == client.id).values(billing_mode=mode))
        client = await session.get(Client, client.id)
    wanted = [WantedAddress(unique("mark"), domain.name, "forwarder", 1, "mark@example.net")]
    with pytest.raises(BusinessError) as refused:
        await Checkout(pg_settings, pg_sessions, _Down()).place_order(client, wanted)
    assert (refused.value.code, refused.value.status) == ("service_unavailable", 503)
    async with pg_sessions() as session:
        [order] = list((await session.execute(select(Order).where(Order.client_id == client.id))).scalars())
        invoice = (await session.execute(select(Invoice).where(Invoice.order_id == order.id))).scalar_one_or_none()
    assert order.status == "cancelled"
    assert (invoice.status if invoice else None) == (None if mode == "exempt" else "cancelled")

    again = await Checkout(pg_settings, pg_sessions, dev_env.client).place_order(client, wanted)
    assert again.id != order.id   # the address was released
