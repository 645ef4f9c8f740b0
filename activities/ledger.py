"""Database steps of the lifecycle: payments, cancellations, subscription status, each idempotent."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.heartbeat import heartbeating
from activities.refusals import refusals_final
from core.money import Money
from store import orders
from workflows.contracts import (
    ActivateSubscription,
    CancelOrder,
    RecordPayment,
    RecordPayPalOrder,
    SetSubscriptionStatus,
)


class LedgerActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]):
        self._sessions = sessions

    @activity.defn(name="record_paypal_order")
    @heartbeating
    async def record_paypal_order(self, inp: RecordPayPalOrder) -> None:
        async with self._sessions.begin() as session:
            await orders.record_paypal_order(session, inp.order_id, inp.paypal_order_id)

    @activity.defn(name="record_payment")
    @heartbeating
    async def record_payment(self, inp: RecordPayment) -> None:
        async with refusals_final(), self._sessions.begin() as session:
            await orders.record_payment(session, order_id=inp.order_id, method=inp.method,
                                        amount=Money(inp.amount_minor, inp.currency),
                                        reference=inp.reference, received_at=inp.received_at, actor=inp.actor)

    @activity.defn(name="cancel_order")
    @heartbeating
    async def cancel_order(self, inp: CancelOrder) -> None:
        async with self._sessions.begin() as session:
            await orders.cancel_order(session, inp.order_id, inp.reason, inp.actor)

    @activity.defn(name="activate_subscription")
    @heartbeating
    async def activate_subscription(self, inp: ActivateSubscription) -> None:
        async with self._sessions.begin() as session:
            await orders.activate_subscription(session, inp.subscription_id, inp.term_start, inp.term_end,
                                              renewed=inp.renewed)

    @activity.defn(name="set_subscription_status")
    @heartbeating
    async def set_subscription_status(self, inp: SetSubscriptionStatus) -> None:
        async with self._sessions.begin() as session:
            await orders.set_subscription_status(session, inp.subscription_id, inp.status, inp.reason, inp.actor,
                                                 until=inp.until)
