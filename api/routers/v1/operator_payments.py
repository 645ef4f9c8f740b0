"""/api/v1/operator: cheques and wires that arrived, one at a time or many from a bank statement."""
from __future__ import annotations

from datetime import date

from fastapi import APIRouter

from api.deps import BillingDep, CheckoutDep, CsrfHeader, Operator, SettingsDep
from api.params import Id
from api.schemas.billing import BulkOut, BulkPaymentsIn
from api.schemas.common import OPERATOR_WRITE, refusals
from api.schemas.orders import PaymentIn, RecordedOut
from api.services import payments
from api.services.billing import BulkRow

router = APIRouter(prefix="/api/v1/operator", tags=["operator payments"])


@router.post("/orders/{order_id}/payments", dependencies=[CsrfHeader], response_model=RecordedOut,
             responses=refusals(*OPERATOR_WRITE, "order_not_payable", "method_invalid", "amount_invalid",
                                "currency_mismatch", "reference_missing", "payment_reference_used", "date_invalid",
                                "date_in_future"))
async def record_manual_payment(order_id: Id, body: PaymentIn, operator: Operator, checkout: CheckoutDep,
                                settings: SettingsDep):
    """Operators: record a cheque or wire that arrived: part of what is due, all of it, or more (the
    excess becomes the client's credit); the same cheque recorded twice (by two operators at once, say)
    is taken once."""
    state = await payments.record(checkout, operator, order_id, method=body.method, amount=body.amount,
                                  currency=settings.currency, reference=body.reference,
                                  received_on=body.received_on, today=date.today())
    return {"order_id": order_id, "status": state.status}


@router.post("/payments", dependencies=[CsrfHeader], response_model=BulkOut, response_model_exclude_unset=True,
             responses=refusals(*OPERATOR_WRITE, "rows_missing", "rows_too_many"))
async def record_payments_in_bulk(body: BulkPaymentsIn, operator: Operator, billing: BillingDep):
    """Operators: record many cheques and wires at once, as from a bank statement. Each row is taken
    or refused (with its code and reason) on its own; a refused row changes nothing."""
    rows = [BulkRow(p.invoice, p.method, p.amount, p.reference, p.received_on) for p in body.payments]
    results = await billing.record_bulk(operator, rows, date.today())
    recorded = sum(1 for r in results if r["recorded"])
    return {"recorded": recorded, "refused": len(results) - recorded, "results": results}
