"""Renewal bodies: the renewal page's choices and a renewal code."""
from __future__ import annotations

from pydantic import BaseModel, Field

from api.params import Id


class RenewalChoiceIn(BaseModel):
    address: str = Field(max_length=320)
    action: str = Field(max_length=10, description="confirm or decline")
    years: int = Field(default=1, ge=1, le=10, description="for confirm: years to add to the current term")


class RenewalsIn(BaseModel):
    items: list[RenewalChoiceIn] = Field(min_length=1, max_length=200)


class CodeIn(BaseModel):
    code: str = Field(max_length=40, description="the renewal code from the renewal invoice email")
    decision: str | None = Field(default=None, max_length=10, description="confirm or decline; omit to look up")




# ---- the renewal code page's forms ----------------------------------------------------------------

class CodeForm(BaseModel):
    code: str = Field(default="", max_length=40)
    decision: str = Field(default="", max_length=10, description="confirm or decline")


class RenewPayForm(BaseModel):
    order_id: Id = 0   # none sent: no such link
    token: str = Field(default="", max_length=80)


# ---- answers ----------------------------------------------------------------------------------------

class OpenOrderOut(BaseModel):
    id: int
    invoice: str
    amount: str


class RenewalRowOut(BaseModel):
    address: str
    kind: str
    status: str
    term_end: str
    decision: str | None = Field(description="confirmed or declined, once decided")
    cancelled: bool
    years_allowed: list[int]
    default_years: int
    price_per_year: str
    open_order: OpenOrderOut | None = Field(description="the renewal order waiting for payment, if one")


class OverviewOut(BaseModel):
    today: str
    until: str
    balance: str
    currency: str
    auto_renew: bool
    addresses: list[RenewalRowOut]


class SubmittedOut(BaseModel):
    order: OpenOrderOut | None = Field(description="the one renewal order for the confirmed addresses")
    confirmed: list[str]
    declined: list[str]


class CodeOrderOut(OpenOrderOut):
    pay_token: str


class CodeAnswerOut(BaseModel):
    address: str
    term_end: str
    decision: str | None
    order: CodeOrderOut | None
