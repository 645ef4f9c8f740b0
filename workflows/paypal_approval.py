"""An approval the order and invoice workflows are told of (the payer's browser coming back, a
webhook) is a hint: PayPal is asked whether the order is approved before anything is captured."""
from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from core.statuses import PayPalOrderStatus
    from workflows.contracts import PAYPAL_READ_BACK, PayPalOrderRef

# APPROVED: capture it; COMPLETED: captured already (the capture step reads that capture back)
CAPTURABLE = (PayPalOrderStatus.APPROVED, PayPalOrderStatus.COMPLETED)


async def confirmed_at_paypal(paypal_order_id: str, **options) -> bool:
    """True when PayPal says the order may be captured; runs started before this was written
    capture on the hint alone, as they did (`PAYPAL_READ_BACK`)."""
    if not workflow.patched(PAYPAL_READ_BACK):
        return True
    status: str = await workflow.execute_activity("paypal_order_status", PayPalOrderRef(paypal_order_id),
                                                  result_type=str, **options)
    return status in CAPTURABLE
