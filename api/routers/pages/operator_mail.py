"""The operators' Mail page (/operator/mail): notifications the mail server refused or that could not
be sent in time (the outbox's `failed` rows, with the server's reply), those waiting for a retry,
and the alerts staff were emailed about providers in the last week."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import PageOperator, SessionsDep
from api.routers.pages.common import render
from store import outbox

router = APIRouter(include_in_schema=False)


@router.get("/operator/mail", response_class=HTMLResponse)
async def operator_mail(request: Request, client: PageOperator, sessions: SessionsDep):
    async with sessions() as session:
        rows = await outbox.undelivered(session)
        alerts = await outbox.provider_alerts(session, datetime.now(timezone.utc) - timedelta(days=7))
    return render(request, "operator_mail.html", client=client,
                  failed=[r for r in rows if r.state == outbox.FAILED],
                  retrying=[r for r in rows if r.state != outbox.FAILED], alerts=alerts)
