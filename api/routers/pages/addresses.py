"""The client's Addresses page (cancel one, change where it forwards) and the destination
confirmation page that the new destination's link opens (no sign-in: the link is the proof)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from api.deps import DestinationsDep, FormClient, FormCsrf, PageClient, RenewalsDep, SessionsDep
from api.params import Id
from api.routers.pages.common import render
from api.schemas.addresses import DestinationForm
from api.views import addresses_view
from core.errors import BusinessError
from core.statuses import ChangeStatus
from store import destinations
from store.models import Subscription

router = APIRouter(include_in_schema=False)


@router.post("/addresses/{address}/cancel", response_class=HTMLResponse)
async def cancel_address(request: Request, address: str, client: FormClient, sessions: SessionsDep,
                         renewals: RenewalsDep):
    try:
        state = await renewals.cancel_address(client, address[:320])
    except BusinessError as exc:
        return await _addresses_page(request, client, sessions, status=exc.status, error=exc)
    return await _addresses_page(request, client, sessions,
                                 notice=f"{state.address} is cancelled; it works until {state.term_end}.")


@router.get("/addresses", response_class=HTMLResponse)
async def my_addresses(request: Request, client: PageClient, sessions: SessionsDep):
    return await _addresses_page(request, client, sessions)


async def _addresses_page(request: Request, client, sessions, status: int = 200, error=None, notice: str = "",
                          entered: dict | None = None) -> HTMLResponse:
    async with sessions() as session:
        rows = await addresses_view(session, client.id)
        refused = await destinations.refused_last(session, client.id)
    return render(request, "addresses.html", status=status, client=client, addresses=rows, error=error,
                  notice=notice, entered=entered or {}, refused=refused)


@router.post("/addresses/{address}/destination", response_class=HTMLResponse)
async def change_destination(request: Request, address: str, client: FormClient, sessions: SessionsDep,
                             changes: DestinationsDep, form: Annotated[DestinationForm, Form()]):
    destination = form.destination
    try:
        change = await changes.request(client, address[:320], destination)
    except BusinessError as exc:
        if exc.status >= 500 or exc.status == 404:
            raise
        exc.field = f"destination:{address}"
        return await _addresses_page(request, client, sessions, exc.status, exc, entered={address: destination})
    notice = (f"We emailed {change.new_destination} a link to confirm. Until it is followed, mail to {address} "
              "keeps going where it goes now.")
    return await _addresses_page(request, client, sessions, notice=notice)


@router.get("/destination/confirm/{change_id}/{token}", response_class=HTMLResponse)
async def confirm_destination_page(request: Request, change_id: Id, token: str, changes: DestinationsDep,
                                   sessions: SessionsDep):
    """No sign-in: the link is the proof. A button, not the link itself, confirms (mail scanners
    open links). Once followed, the page says how it ended: applied, being applied, or refused and why."""
    change = await changes.pending(change_id, token[:80])
    refused = await changes.refusal(change) if change.status == ChangeStatus.REFUSED else ""
    return await _confirm_page(request, sessions, change, token, refused=refused)


async def _confirm_page(request: Request, sessions, change, token: str, status: int = 200,
                        refused: str = "") -> HTMLResponse:
    async with sessions() as session:
        sub = await session.get(Subscription, change.subscription_id)
    return render(request, "destination_confirm.html", status=status, change=change, address=sub.address,
                  token=token[:80], done=change.status in (ChangeStatus.APPLIED, ChangeStatus.CONFIRMED), refused=refused,
                  old=change.old_destination,
                  # an old link, opened again after a later change took its place
                  replaced_by=sub.destination if change.status == ChangeStatus.APPLIED
                  and sub.destination.lower() != change.new_destination.lower() else "")


@router.post("/destination/confirm/{change_id}/{token}", response_class=HTMLResponse, dependencies=[FormCsrf])
async def confirm_destination(request: Request, change_id: Id, token: str, changes: DestinationsDep,
                              sessions: SessionsDep):
    """Checked again now (a circle another confirmed change would close is refused here, the reason
    on the page), then applied by the workflow, whose outcome the page waits a few seconds for."""
    try:
        change = await changes.confirm(change_id, token[:80])
    except BusinessError as exc:
        if exc.status != 409:
            raise
        change = await changes.pending(change_id, token[:80])
        return await _confirm_page(request, sessions, change, token, 409, refused=exc.message)
    change = await changes.outcome(change.id)
    refused = await changes.refusal(change) if change.status == ChangeStatus.REFUSED else ""
    return await _confirm_page(request, sessions, change, token, 409 if refused else 200, refused=refused)
