"""/api/v1: the catalog (categories, domains) and the availability grid."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from api.deps import MaybeClient, ReadSessionsDep, SessionsDep, SettingsDep
from api.ratelimit import limit_checks
from api.schemas.catalog import CatalogOut, DomainsOut, GridOut
from api.schemas.common import refusals
from api.views import grid_view, surname_initial
from store import catalog

router = APIRouter(prefix="/api/v1", tags=["catalog"])


@router.get("/catalog", response_model=CatalogOut, responses=refusals())
async def get_catalog(sessions: SessionsDep):
    """Categories (subcategories name their parent) with how many listed domains each holds."""
    async with sessions() as session:
        rows = await catalog.category_counts(session)
    return {"categories": [{"name": n, "slug": s, "parent": p, "domains": c} for n, s, p, c in rows]}


@router.get("/domains", response_model=DomainsOut, responses=refusals())
async def get_domains(sessions: SessionsDep, q: Annotated[str, Query(max_length=100)] = "",
                      category: Annotated[str, Query(max_length=160)] = "", page: Annotated[int, Query(ge=1)] = 1,
                      per_page: Annotated[int, Query(ge=1, le=200)] = 60):
    """Listed domains matching `q` (Unicode or punycode) in a category and its subcategories, paged."""
    async with sessions() as session:
        found = await catalog.search_domains(session, q=q, category_slug=category, page=page, per_page=per_page)
    return {"domains": found.domains, "total": found.total, "page": found.page, "pages": found.pages}


@router.get("/availability", dependencies=[Depends(limit_checks)], response_model=GridOut,
            responses=refusals("rate_limited", "names_empty", "names_too_many", "domains_empty", "domains_too_many"))
async def get_availability(request: Request, sessions: ReadSessionsDep, settings: SettingsDep, client: MaybeClient,
                           names: Annotated[str, Query(max_length=2000, description="comma-separated names")],
                           domains: Annotated[str, Query(max_length=6000, description="comma-separated domains")]):
    """Every name × domain: available, taken, unavailable (reserved or existing) or invalid with the
    reason; cells that are gone carry up to five free alternatives. Operators see the exact status."""
    async with sessions() as session:
        grid = await grid_view(session, settings, names.split(","), domains.split(","),
                               operator=bool(client and client.is_operator), initial=surname_initial(client),
                               portfolio=request.app.state.portfolio)
    return JSONResponse(grid)  # plain JSON already: skip the generic encoder on 200-cell answers
