"""Order bodies: the lines of a new order, how a customer pays, what an operator records."""
from __future__ import annotations

from pydantic import BaseModel, Field


class OrderLineIn(BaseModel):
    local_part: str = Field(max_length=200, description="the name before the @")
    domain: str = Field(max_length=253)
    kind: str = Field(default="forwarder", max_length=20)
    years: int = Field(ge=1, le=10)
    destination: str = Field(default="", max_length=320, description="where a forwarder delivers")
    password: str = Field(default="", max_length=128, description="a mailbox's password (mailboxes only)")


class OrderIn(BaseModel):
    lines: list[OrderLineIn] = Field(min_length=1, max_length=20)
    promo_code: str | None = Field(default=None, max_length=40, description="a promo code; refused with the reason "
                                                                           "if it cannot be used (nothing is ordered)")


class ManualIn(BaseModel):
    method: str = Field(max_length=20, description="cheque or wire")


class PaymentIn(BaseModel):
    method: str = Field(max_length=20, description="cheque or wire")
    amount: str = Field(max_length=20, description="decimal, e.g. 24.00: part of what is due, all of it, or more "
                                                   "(the excess becomes the client's credit)")
    reference: str = Field(max_length=100, description="cheque number or bank reference")
    received_on: str = Field(max_length=10, description="YYYY-MM-DD")




# ---- the order page's forms: a field left empty is the service's to refuse, beside the field ----

class ManualForm(BaseModel):
    method: str = Field(default="", max_length=20, description="cheque or wire")


class PaymentForm(BaseModel):
    """An operator's record of a cheque or wire: PaymentIn's fields, each of which may be left empty."""
    method: str = Field(default="", max_length=20)
    amount: str = Field(default="", max_length=20)
    reference: str = Field(default="", max_length=100)
    received_on: str = Field(default="", max_length=10)


# ---- answers ----------------------------------------------------------------------------------------

class PayPalOut(BaseModel):
    paypal_order_id: str
    approve_url: str = Field(description="send the buyer here; PayPal brings them back to /paypal/return")


class CancellingOut(BaseModel):
    status: str = Field(description="cancelling")


class CreditPaymentOut(BaseModel):
    order_id: int
    status: str
    message: str
    due: str | None = Field(description="what is still due after the credit, decimal")


class RecordedOut(BaseModel):
    order_id: int
    status: str
