"""/api/v1/addresses: the client's addresses, cancelling one, a new destination (confirmed by
email), a mailbox's usage, password and automatic reply."""
from __future__ import annotations

from fastapi import APIRouter

from api.deps import CsrfHeader, DestinationsDep, MailboxesDep, RenewalsDep, SessionsDep, SignedIn
from api.schemas.addresses import (AddressesOut, AutoresponderIn, AutoresponderOut, CancelledAddressOut, ChangingOut,
                                   DestinationChangeOut, DestinationIn, MailboxOut, PasswordIn)
from api.schemas.common import SIGNED_IN, WRITE, refusals
from api.services import autoreplies
from api.views import addresses_view

router = APIRouter(prefix="/api/v1/addresses", tags=["addresses"])
MAILBOX = ("address_not_found", "address_not_active")
CHANGE = (*WRITE, *MAILBOX, "change_refused", "still_working", "service_unavailable")


@router.get("", response_model=AddressesOut, responses=refusals(*SIGNED_IN))
async def my_addresses(client: SignedIn, sessions: SessionsDep):
    async with sessions() as session:
        return {"addresses": await addresses_view(session, client.id)}


@router.post("/{address}/cancel", dependencies=[CsrfHeader], response_model=CancelledAddressOut,
             responses=refusals(*WRITE, "address_not_found", "address_not_active"))
async def cancel_address(address: str, client: SignedIn, renewals: RenewalsDep):
    """Cancel an address: it keeps working to its term end, then expires; no refund."""
    state = await renewals.cancel_address(client, address[:320])
    return {"address": state.address, "status": state.status, "cancel_at_term_end": state.cancel_at_term_end,
            "term_end": state.term_end.isoformat() if state.term_end else None}


@router.post("/{address}/destination", status_code=202, dependencies=[CsrfHeader],
             response_model=DestinationChangeOut,
             responses=refusals(*WRITE, "address_not_found", "address_not_active", "destination_empty",
                                "destination_invalid", "destination_unchanged", "destination_loop"))
async def change_destination(address: str, body: DestinationIn, client: SignedIn, changes: DestinationsDep):
    """Forward elsewhere: the new destination is emailed a confirmation link (48 hours) and the switch
    happens only when it is followed; the old destination keeps receiving meanwhile."""
    change = await changes.request(client, address[:320], body.destination)
    return {"change_id": change.id, "status": "awaiting_confirmation", "destination": change.new_destination,
            "expires_at": change.expires_at.isoformat(timespec="minutes")}


@router.get("/{address}/mailbox", response_model=MailboxOut,
            responses=refusals(*SIGNED_IN, *MAILBOX, "service_unavailable"))
async def mailbox_status(address: str, client: SignedIn, mailboxes: MailboxesDep):
    """How full the mailbox is (live from cPanel), whether an automatic reply is on, and how the latest
    change (automatic reply or password) ended: `last_change.ok` false with the refusal's code and
    sentence when it did not reach the mail server."""
    usage = await mailboxes.usage(client, address[:320])
    last = await mailboxes.last_change(client, address[:320])
    return {"address": address.lower(), "used_mb": usage.used_mb, "quota_mb": usage.quota_mb,
            "autoresponder": usage.autoresponder_subject or None, "read_at": usage.read_at.isoformat(),
            "last_change": None if last is None else {
                "what": last.what, "ok": last.ok, "code": last.code or None, "message": last.message or None,
                "at": last.at.isoformat(timespec="seconds") if last.at else None}}


@router.post("/{address}/password", status_code=202, dependencies=[CsrfHeader], response_model=ChangingOut,
             responses=refusals(*CHANGE, "password_too_short", "password_too_long", "password_common",
                                "password_guessable", "password_bad_characters"))
async def change_mailbox_password(address: str, body: PasswordIn, client: SignedIn, mailboxes: MailboxesDep):
    await mailboxes.change_password(client, address[:320], body.password)
    return {"status": "changing"}


@router.put("/{address}/autoresponder", dependencies=[CsrfHeader], response_model=AutoresponderOut,
            responses=refusals(*CHANGE, "date_invalid", "interval_invalid"))
async def set_autoresponder(address: str, body: AutoresponderIn, client: SignedIn, mailboxes: MailboxesDep):
    reply = autoreplies.reply(body.subject, body.body, body.interval_hours, body.start, body.stop)
    await mailboxes.set_autoresponder(client, address[:320], reply)
    return {"autoresponder": body.subject}


@router.delete("/{address}/autoresponder", dependencies=[CsrfHeader], response_model=AutoresponderOut,
               responses=refusals(*CHANGE))
async def clear_autoresponder(address: str, client: SignedIn, mailboxes: MailboxesDep):
    await mailboxes.set_autoresponder(client, address[:320], autoreplies.off())
    return {"autoresponder": None}
