"""Operators' Payments page: every order still waiting for money, with a form to record a cheque
or wire that arrived (api.services.payments.record, as the JSON API records it)."""
from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from api.deps import CheckoutDep, FormOperator, PageOperator, SessionsDep, SettingsDep
from api.params import Id
from api.routers.pages.common import back_with, render, said
from api.schemas.orders import PaymentForm
from api.services import payments
from core.errors import BusinessError
from core.money import Money
from store import orders, webhooks

router = APIRouter(include_in_schema=False)


@router.get("/operator/payments", response_class=HTMLResponse)
async def operator_payments(request: Request, client: PageOperator, sessions: SessionsDep, checkout: CheckoutDep):
    """Operators: every order still waiting for money, and a form to record a cheque or wire."""
    return await _payments_page(request, client, sessions, checkout, done=said(request))


async def _payments_page(request: Request, client, sessions, checkout, error=None, status: int = 200,
                         done: str = "") -> HTMLResponse:
    async with sessions() as session:
        waiting = await orders.awaiting_payment(session)
        unmatched = await webhooks.needing_attention(session)
    # each order's live state (method, deadline) from its workflow, asked all at once
    states = await asyncio.gather(*(checkout.order_state(order.id) for order, _, _ in waiting))
    rows = []
    for (order, invoice, customer), live in zip(waiting, states):
        due = live.due_minor if live and live.due_minor is not None else order.total_minor
        rows.append({"order": order, "invoice": invoice, "customer": customer,
                     "total": Money(order.total_minor, order.currency).amount(),
                     "due": Money(due, order.currency).amount(),     # what the form offers to record
                     "method": live.method if live else "", "deadline": live.deadline if live else None})
    return render(request, "operator_payments.html", status=status, client=client, rows=rows, error=error,
                  today=date.today().isoformat(), unmatched=unmatched, done=done)


@router.post("/operator/orders/{order_id}/payments", response_class=HTMLResponse)
async def operator_record_payment(request: Request, order_id: Id, client: FormOperator, sessions: SessionsDep,
                                  checkout: CheckoutDep, settings: SettingsDep,
                                  form: Annotated[PaymentForm, Form()]):
    before = await checkout.order_state(order_id)   # what was due, to say what went beyond it
    try:
        state = await payments.record(checkout, client, order_id, method=form.method, amount=form.amount,
                                      currency=settings.currency, reference=form.reference,
                                      received_on=form.received_on, today=date.today())
    except BusinessError as exc:
        exc.message = f"Order {order_id}: {exc.message}"
        return await _payments_page(request, client, sessions, checkout, error=exc, status=exc.status)
    # back to the page (a reload records nothing), saying what was recorded and what is left
    due_before = before.due_minor if before else None   # None before the invoice says: nothing is claimed
    sentence = payments.recorded_sentence(state, form.method, form.amount, form.reference, settings.currency,
                                          due_before)
    return back_with(request, "/operator/payments", sentence)
