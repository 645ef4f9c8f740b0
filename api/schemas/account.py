"""Account settings bodies."""
from __future__ import annotations

from pydantic import BaseModel, Field


class AutoRenewIn(BaseModel):
    enabled: bool


class ApplyCreditIn(BaseModel):
    enabled: bool




class SwitchForm(BaseModel):
    """A page's on/off setting: a checkbox (`on`) or a button sending `1`."""
    enabled: str = Field(default="", max_length=3)


# ---- answers ----------------------------------------------------------------------------------------

class CreditEntryOut(BaseModel):
    at: str | None
    amount: str
    kind: str
    reason: str
    reference: str


class CreditOut(BaseModel):
    balance: str
    currency: str
    auto_renew: bool
    apply_credit: bool
    entries: list[CreditEntryOut]


class AutoRenewOut(BaseModel):
    auto_renew: bool


class ApplyCreditOut(BaseModel):
    apply_credit: bool


class StatementLineOut(BaseModel):
    number: str
    status: str
    issued_at: str
    due_at: str
    currency: str
    subtotal: str
    discount: str
    tax: str
    total: str
    paid: str
    due: str
    credit_note: str | None
    pdf: str


class StatementOut(BaseModel):
    invoices: list[StatementLineOut]


class InvoiceCreditOut(BaseModel):
    invoice: str
    status: str
    due: int | None = Field(description="what is still due, in minor units")
    message: str
