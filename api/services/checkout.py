"""Checkout as the API does it: place the order, start its workflow, begin PayPal, relay approvals.

Placing an order writes in the request (order, invoice, reserved addresses) because the customer
needs an immediate, race-free answer and the database's unique index gives one; from then on the
order's workflow (and its invoice's, which takes the payment) owns every change, and the API only
starts, updates and signals them through the gateway.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client as TemporalClient

from api.services.ordering import WantedAddress, place
from api.temporal import Gateway
from core.addresses import normalize_domain, normalize_local_part
from core.errors import BusinessError
from settings import Settings
from store import audit, orders
from store.models import Client, Order
from workflows.contracts import (
    BeginPayPal,
    CancelRequest,
    ChooseManual,
    ManualInstructions,
    ManualPayment,
    OrderState,
    PayPalApproved,
    PayPalCheckout,
)


class Checkout:
    def __init__(self, settings: Settings, sessions: async_sessionmaker[AsyncSession], temporal: TemporalClient):
        self.settings, self.sessions = settings, sessions
        self.gateway = Gateway(temporal, sessions, settings.task_queue)

    async def place_order(self, client: Client, wanted: list[WantedAddress], promo_code: str = "") -> Order:
        now = datetime.now(timezone.utc)
        try:
            async with self.sessions.begin() as session:
                order, inp = await place(session, self.settings, client, wanted, now, promo_code)
        except BusinessError as exc:
            if exc.field == "promo_code":   # a code past its limits, expired, not for these addresses...
                async with self.sessions.begin() as session:
                    audit.record(session, f"client:{client.id}", "promo_code.refused", "promo", promo_code.strip()[:40],
                                 None, {"code": exc.code, "message": exc.message,
                                        "addresses": [f"{w.local_part}@{w.domain}" for w in wanted]})
            # A double submit of the same single address returns the order it already made.
            if exc.code == "address_taken" and len(wanted) == 1:
                existing = await self._own_pending_order(client, wanted[0])
                if existing is not None:
                    return existing
            raise
        await self.gateway.start_order(inp)
        return order

    async def _own_pending_order(self, client: Client, wanted: WantedAddress) -> Order | None:
        address = f"{normalize_local_part(wanted.local_part)}@{normalize_domain(wanted.domain)}"
        async with self.sessions() as session:
            return await orders.pending_order_for(session, client.id, address)

    async def begin_paypal(self, order_id: int) -> PayPalCheckout:
        base = self.settings.public_base_url.rstrip("/")
        return await self.gateway.order(order_id).begin_paypal(
            BeginPayPal(return_url=f"{base}/paypal/return", cancel_url=f"{base}/orders/{order_id}"))

    async def choose_manual(self, order_id: int, method: str) -> ManualInstructions:
        return await self.gateway.order(order_id).choose_manual(ChooseManual(method))

    async def record_manual(self, order_id: int, payment: ManualPayment) -> OrderState:
        """An operator's record of a cheque or wire; refused, with the reason, unless it settles the order."""
        return await self.gateway.order(order_id).record_manual(payment)

    async def cancel(self, order_id: int, actor: str) -> None:
        await self.gateway.order(order_id).cancel(CancelRequest("cancelled at the customer's request", actor))

    async def order_for_paypal(self, paypal_order_id: str) -> Order | None:
        """The order whose PayPal checkout this is (read only: who may hand its approval on is the caller's)."""
        async with self.sessions() as session:
            return await orders.order_by_paypal_id(session, paypal_order_id)

    async def relay_approval(self, order: Order, paypal_order_id: str) -> None:
        """Hand a PayPal approval to the order's workflow: a hint, which it checks with PayPal before
        capturing (closed already, paid or cancelled: the order page tells which)."""
        await self.gateway.order(order.id).paypal_approved(PayPalApproved(paypal_order_id))

    async def order_state(self, order_id: int) -> OrderState | None:
        """Live state from the workflow, under a short timeout; None when it cannot answer now."""
        return await self.gateway.order(order_id).state(timedelta(seconds=self.settings.workflow_status_timeout_s))
