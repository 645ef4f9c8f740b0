"""The catalog pages: the home page's domain picker and the availability grid (/check)."""
from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import MaybeClient, SessionsDep, SettingsDep
from api.routers.pages.common import render
from api.views import grid_view, surname_initial
from core.errors import BusinessError
from store import catalog

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, sessions: SessionsDep, client: MaybeClient, q: str = "", category: str = "",
               page: int = 1):
    async with sessions() as session:
        context = await picker(session, q, category, page, [])
    return render(request, "index.html", client=client, **context)


@router.get("/check", response_class=HTMLResponse)
async def check(request: Request, sessions: SessionsDep, settings: SettingsDep, client: MaybeClient,
                names: Annotated[str, Query(max_length=2000)] = "",
                domain: Annotated[list[str] | None, Query()] = None, q: str = "", category: str = "", page: int = 1):
    chosen = list(dict.fromkeys(domain or []))[:200]
    wanted = [n for n in names.replace(",", "\n").splitlines() if n.strip()]
    async with sessions() as session:
        context = await picker(session, q, category, page, chosen)
        context["keep"] = urlencode({"names": names[:2000]})
        grid, error = None, None
        if names and (domain or not (q or category or page > 1)):
            request.app.state.limiter.check(request)
            try:
                grid = (await grid_view(session, settings, wanted, chosen, operator=bool(client and client.is_operator),
                                        initial=surname_initial(client), portfolio=request.app.state.portfolio))["cells"]
            except BusinessError as exc:
                error = exc
    columns = list(dict.fromkeys(c["domain"] for c in grid)) if grid else []
    rows = {}
    for cell in grid or []:
        rows.setdefault(cell["name"], {})[cell["domain"]] = cell
    return render(request, "check.html", rows=rows, columns=columns, error=error, names=names[:2000],
                  client=client, **context)


async def picker(session, q: str, category: str, page: int, chosen: list[str]) -> dict:
    """What the domain picker shows: categories with counts, one page of matches, the chosen ones."""
    return {"cats": await catalog.category_counts(session),
            "found": await catalog.search_domains(session, q=q[:100], category_slug=category[:160], page=page),
            "q": q[:100], "category": category[:160], "chosen": set(chosen), "chosen_list": chosen, "keep": ""}
