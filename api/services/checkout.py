"""Checkout as the API does it: place the order, start its workflow, begin PayPal, relay approvals.

Placing an order writes in the request (order, invoice, reserved addresses) because the customer
needs an immediate, race-free answer and the database's unique index gives one; from then on the
order's workflow owns every change, and the API only starts, updates and signals it.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client as TemporalClient
from temporalio.client import WorkflowUpdateFailedError
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from api.services.ordering import WantedAddress, place
from api.services.updates import run_update
from core.addresses import normalize_domain, normalize_local_part
from core.errors import BusinessError
from settings import Settings
from store import audit, orders
from store.models import Client, Order
from workflows.contracts import (
    BEGIN_PAYPAL,
    CANCEL_ORDER,
    CHOOSE_MANUAL,
    ORDER_WORKFLOW,
    RECORD_MANUAL,
    PAYPAL_APPROVED,
    SA_CLIENT,
    SA_STATUS,
    STATE,
    BeginPayPal,
    CancelRequest,
    ChooseManual,
    ManualInstructions,
    ManualPayment,
    OrderState,
    PayPalApproved,
    PayPalCheckout,
    order_workflow_id,
)

log = logging.getLogger(__name__)


class Checkout:
    def __init__(self, settings: Settings, sessions: async_sessionmaker[AsyncSession], temporal: TemporalClient):
        self.settings, self.sessions, self.temporal = settings, sessions, temporal

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
        try:
            await self.temporal.start_workflow(
                ORDER_WORKFLOW, inp, id=order_workflow_id(order.id), task_queue=self.settings.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                search_attributes=TypedSearchAttributes([SearchAttributePair(SA_CLIENT, str(client.id)),
                                                         SearchAttributePair(SA_STATUS, "awaiting_payment")]))
        except RPCError:
            log.exception("could not start the workflow for order %s; releasing it", order.id)
            async with self.sessions.begin() as session:
                await orders.cancel_order(session, order.id, "not started: workflow service unavailable")
            raise BusinessError("service_unavailable",
                                "We could not take your order just now and nothing was charged. Please try again.",
                                status=503) from None
        return order

    async def _own_pending_order(self, client: Client, wanted: WantedAddress) -> Order | None:
        address = f"{normalize_local_part(wanted.local_part)}@{normalize_domain(wanted.domain)}"
        async with self.sessions() as session:
            return await orders.pending_order_for(session, client.id, address)

    async def begin_paypal(self, order_id: int) -> PayPalCheckout:
        base = self.settings.public_base_url.rstrip("/")
        handle = self.temporal.get_workflow_handle(order_workflow_id(order_id))
        try:
            return await handle.execute_update(
                BEGIN_PAYPAL, BeginPayPal(return_url=f"{base}/paypal/return", cancel_url=f"{base}/orders/{order_id}"),
                result_type=PayPalCheckout, rpc_timeout=timedelta(seconds=30))
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            if isinstance(cause, ApplicationError):
                raise BusinessError(cause.type or "order_not_payable", cause.message, status=409) from None
            raise BusinessError("payment_unavailable", "PayPal could not be reached; please try again.",
                                status=503) from None
        except RPCError as exc:
            log.warning("begin_paypal for order %s failed: %s", order_id, exc)
            raise BusinessError("order_not_payable", "This order can no longer be paid.", status=409) from None

    async def choose_manual(self, order_id: int, method: str) -> ManualInstructions:
        return await self._update(order_id, CHOOSE_MANUAL, ChooseManual(method), ManualInstructions)

    async def record_manual(self, order_id: int, payment: ManualPayment) -> OrderState:
        """An operator's record of a cheque or wire; refused, with the reason, unless it settles the order."""
        return await self._update(order_id, RECORD_MANUAL, payment, OrderState)

    async def cancel(self, order_id: int, actor: str) -> None:
        try:
            await self.temporal.get_workflow_handle(order_workflow_id(order_id)).signal(
                CANCEL_ORDER, CancelRequest("cancelled at the customer's request", actor))
        except RPCError:
            raise BusinessError("order_not_cancellable", "This order can no longer be cancelled.", status=409) from None

    async def _update(self, order_id: int, name: str, arg, result_type):
        return await run_update(self.temporal.get_workflow_handle(order_workflow_id(order_id)), name, arg,
                                result_type, closed=BusinessError("order_not_payable",
                                                                  "This order is no longer waiting for payment.",
                                                                  status=409))

    async def order_for_paypal(self, paypal_order_id: str) -> Order | None:
        """The order whose PayPal checkout this is (read only: who may hand its approval on is the caller's)."""
        async with self.sessions() as session:
            return await orders.order_by_paypal_id(session, paypal_order_id)

    async def relay_approval(self, order: Order, paypal_order_id: str) -> None:
        """Hand a PayPal approval to the order's workflow: a hint, which it checks with PayPal before
        capturing."""
        try:
            await self.temporal.get_workflow_handle(order_workflow_id(order.id)).signal(
                PAYPAL_APPROVED, PayPalApproved(paypal_order_id))
        except RPCError as exc:  # closed already (paid or cancelled): the order page tells which
            log.info("approval for order %s not delivered: %s", order.id, exc.message)

    async def order_state(self, order_id: int) -> OrderState | None:
        """Live state from the workflow, under a short timeout; None when it cannot answer now."""
        try:
            return await self.temporal.get_workflow_handle(order_workflow_id(order_id)).query(
                STATE, result_type=OrderState,
                rpc_timeout=timedelta(seconds=self.settings.workflow_status_timeout_s))
        except RPCError:
            return None
