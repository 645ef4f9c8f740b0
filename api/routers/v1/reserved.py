"""/api/v1/reserved-names: the global list (operators) or one domain's list (its owner or an
operator), changed through api.services.reserved_names as the Reserved page changes it."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import CsrfHeader, SessionsDep, SignedIn
from api.params import Id
from api.schemas.common import SIGNED_IN, WRITE, refusals
from api.schemas.reserved import ReservedIn, ReservedListOut, ReservedOut
from api.services import reserved_names
from core.addresses import display_domain

router = APIRouter(prefix="/api/v1/reserved-names", tags=["reserved names"])
SCOPE = ("forbidden", "domain_invalid", "domain_unknown", "domain_not_yours")


def _reserved_json(entry, domain: str | None) -> dict:
    return {"id": entry.id, "pattern": entry.pattern, "prefix": entry.is_prefix, "reason": entry.reason,
            "domain": display_domain(domain) if domain else None}


@router.get("", response_model=ReservedListOut, responses=refusals(*SIGNED_IN, *SCOPE))
async def list_reserved(client: SignedIn, sessions: SessionsDep,
                        domain: Annotated[str, Query(max_length=253, description="omit for the global list")] = ""):
    """The global list (operators) or one domain's list (its owner or an operator)."""
    scope, rows = await reserved_names.listing(sessions, client, domain)
    return {"list": scope.label, "entries": [_reserved_json(r, scope.domain.name if scope.domain else None)
                                             for r in rows]}


@router.post("", status_code=201, dependencies=[CsrfHeader], response_model=ReservedOut,
             responses=refusals(*WRITE, *SCOPE, "pattern_empty", "pattern_exists"))
async def add_reserved(body: ReservedIn, client: SignedIn, sessions: SessionsDep):
    entry, domain = await reserved_names.add(sessions, client, body.domain, body.pattern, body.reason)
    return _reserved_json(entry, domain)


@router.delete("/{entry_id}", status_code=204, dependencies=[CsrfHeader], response_class=Response,
               responses=refusals(*WRITE, "forbidden", "entry_unknown"))
async def remove_reserved(entry_id: Id, client: SignedIn, sessions: SessionsDep):
    await reserved_names.remove(sessions, client, entry_id)
