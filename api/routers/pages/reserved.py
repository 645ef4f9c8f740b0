"""The Reserved page: the operator's global list of names nobody may buy, or a domain owner's list
for one of their domains (api.services.reserved_names, as the JSON API changes them)."""
from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import FormClient, PageClient, SessionsDep
from api.params import Id
from api.routers.pages.common import render
from api.schemas.reserved import ReservedForm
from api.services import reserved_names
from core.addresses import display_domain
from core.errors import BusinessError
from store import reserved

router = APIRouter(include_in_schema=False)


async def _reserved_page(request: Request, sessions, client, domain: str, status: int = 200, error=None,
                         pattern: str = "", reason: str = "") -> HTMLResponse:
    async with sessions() as session:
        mine = await reserved.editable_domains(session, client)
    if not domain and not client.is_operator and mine:
        domain = mine[0].name
    scope, rows = await reserved_names.listing(sessions, client, domain)
    return render(request, "reserved.html", status=status, client=client, scope=scope, domains=mine, entries=rows,
                  error=error, pattern=pattern, reason=reason, display=display_domain)


@router.get("/reserved", response_class=HTMLResponse)
async def reserved_list(request: Request, client: PageClient, sessions: SessionsDep,
                        domain: Annotated[list[str] | None, Query()] = None):
    """The operator's global list, or a domain owner's list for one of their domains."""
    typed = [d.strip() for d in domain or [] if d and d.strip()]
    return await _reserved_page(request, sessions, client, (typed[-1] if typed else "")[:253])


@router.post("/reserved", response_class=HTMLResponse)
async def reserved_add(request: Request, client: FormClient, sessions: SessionsDep,
                       form: Annotated[ReservedForm, Form()]):
    try:
        await reserved_names.add(sessions, client, form.domain, form.pattern, form.reason)
    except BusinessError as exc:
        if exc.field != "pattern":
            raise
        return await _reserved_page(request, sessions, client, form.domain, exc.status, exc, form.pattern,
                                    form.reason)
    return RedirectResponse(f"/reserved?{urlencode({'domain': form.domain})}", status_code=303)


@router.post("/reserved/{entry_id}/remove")
async def reserved_remove(entry_id: Id, client: FormClient, sessions: SessionsDep):
    domain = await reserved_names.remove(sessions, client, entry_id)
    return RedirectResponse(f"/reserved?{urlencode({'domain': domain})}", status_code=303)
