"""A mailbox's settings page: how full it is, the last change and how it ended, a new password,
an automatic reply on or off."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from api.deps import FormClient, MailboxesDep, PageClient
from api.routers.pages.common import render
from api.schemas.addresses import MailboxForm
from api.services import autoreplies
from core.errors import BusinessError
from core.refusals import Refusals, refuse

router = APIRouter(include_in_schema=False)


@router.get("/addresses/{address}/mailbox", response_class=HTMLResponse)
async def mailbox_page(request: Request, address: str, client: PageClient, mailboxes: MailboxesDep):
    return await _mailbox_page(request, client, mailboxes, address[:320])


async def _mailbox_page(request: Request, client, mailboxes, address: str, status: int = 200, error=None,
                        notice: str = "", entered: dict | None = None) -> HTMLResponse:
    sub = await mailboxes.mailbox(client, address)
    try:
        usage, usage_error = await mailboxes.usage(client, address), None
    except BusinessError as exc:
        usage, usage_error = None, exc
    return render(request, "mailbox.html", status=status, client=client, address=sub.address, usage=usage,
                  usage_error=usage_error, error=error, notice=notice, entered=entered or {},
                  last_change=await mailboxes.last_change(client, address))


@router.post("/addresses/{address}/mailbox", response_class=HTMLResponse)
async def mailbox_change(request: Request, address: str, client: FormClient, mailboxes: MailboxesDep,
                         form: Annotated[MailboxForm, Form()]):
    """One form per setting: `action` is password, autoresponder or clear."""
    address = address[:320]
    try:
        if form.action == "password":
            await mailboxes.change_password(client, address, form.password)
            notice = "The new password is on its way to the mail server; it works within a minute."
        elif form.action == "autoresponder":
            await mailboxes.set_autoresponder(client, address, autoreplies.reply(
                form.subject, form.body, form.interval_hours, None, form.stop))
            notice = "Your automatic reply is on."
        elif form.action == "clear":
            await mailboxes.set_autoresponder(client, address, autoreplies.off())
            notice = "Your automatic reply is off."
        else:
            raise refuse(Refusals.ACTION_INVALID, "action", message="Choose what to change.")
    except BusinessError as exc:
        if exc.status == 404:
            raise
        return await _mailbox_page(request, client, mailboxes, address, exc.status, exc,
                                   entered=form.model_dump(include={"subject", "body", "interval_hours", "stop",
                                                                    "action"}))
    return await _mailbox_page(request, client, mailboxes, address, notice=notice)
