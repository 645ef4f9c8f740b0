"""Address bodies: a new destination, a mailbox's password and automatic reply."""
from __future__ import annotations

from pydantic import BaseModel, Field


class DestinationIn(BaseModel):
    destination: str = Field(max_length=320)


class PasswordIn(BaseModel):
    password: str = Field(max_length=1024)


class AutoresponderIn(BaseModel):
    subject: str = Field(max_length=200)
    body: str = Field(max_length=10_000)
    interval_hours: int = Field(default=24, ge=0, le=720, description="hours between replies to one sender")
    start: str | None = Field(default=None, max_length=40, description="ISO time, UTC unless it says; default now")
    stop: str | None = Field(default=None, max_length=40, description="ISO time; default: until cleared")




# ---- the addresses and mailbox pages' forms --------------------------------------------------------

class DestinationForm(BaseModel):
    destination: str = Field(default="", max_length=320)


class MailboxForm(BaseModel):
    """One form per setting: `action` is password, autoresponder or clear."""
    action: str = Field(default="", max_length=20)
    password: str = Field(default="", max_length=1024)
    subject: str = Field(default="", max_length=200)
    body: str = Field(default="", max_length=10_000)
    interval_hours: str = Field(default="24", max_length=5)
    stop: str = Field(default="", max_length=40)


# ---- answers ----------------------------------------------------------------------------------------

class AddressOut(BaseModel):
    address: str
    kind: str
    status: str
    destination: str
    term_start: str | None
    term_end: str | None
    order_id: int | None
    cancel_at_term_end: bool
    grace_until: str | None


class AddressesOut(BaseModel):
    addresses: list[AddressOut]


class DestinationChangeOut(BaseModel):
    change_id: int
    status: str = Field(description="awaiting_confirmation")
    destination: str
    expires_at: str


class LastChangeOut(BaseModel):
    what: str = Field(description="autoresponder, password or destination")
    ok: bool
    code: str | None
    message: str | None
    at: str | None


class MailboxOut(BaseModel):
    address: str
    used_mb: float
    quota_mb: int | None
    autoresponder: str | None = Field(description="the automatic reply's subject, when one is on")
    read_at: str = Field(description="when the mail server was last read for the figures above")
    last_change: LastChangeOut | None


class ChangingOut(BaseModel):
    status: str = Field(description="changing")


class AutoresponderOut(BaseModel):
    autoresponder: str | None


class CancelledAddressOut(BaseModel):
    address: str
    status: str
    cancel_at_term_end: bool
    term_end: str | None
