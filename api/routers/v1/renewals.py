"""/api/v1: the renewal window (confirm or decline each address ending soon) and renewal codes."""
from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import CsrfHeader, RenewalsDep, SignedIn
from api.schemas.common import SIGNED_IN, WRITE, refusals
from api.schemas.renewals import CodeAnswerOut, CodeIn, OverviewOut, RenewalsIn, SubmittedOut
from api.services.renewals import Choice, code_decision

router = APIRouter(prefix="/api/v1", tags=["renewals"])


@router.get("/renewals", response_model=OverviewOut, responses=refusals(*SIGNED_IN))
async def renewals_overview(client: SignedIn, renewals: RenewalsDep):
    """Every address of yours ending within the renewal window (3 months), those in grace too, with
    the years each may be renewed for, and your credit balance."""
    return (await renewals.overview(client)).as_dict()


@router.post("/renewals", status_code=201, dependencies=[CsrfHeader], response_model=SubmittedOut,
             responses=refusals(*WRITE, "renewal_empty", "action_invalid", "address_not_renewable",
                                "term_not_allowed", "term_beyond_registry", "service_unavailable"))
async def submit_renewals(body: RenewalsIn, client: SignedIn, renewals: RenewalsDep):
    """Confirm (with 1-10 years) or decline each address, in one go; confirmed ones share one renewal
    invoice, paid from credit at once when the balance covers it (auto-renew on), else pay it like an order."""
    done = await renewals.submit(client, [Choice(i.address, i.action, i.years) for i in body.items])
    return done.as_dict()


@router.post("/renewal-codes", dependencies=[CsrfHeader], response_model=CodeAnswerOut,
             responses=refusals("csrf_failed", "rate_limited", "code_malformed", "code_unknown", "code_expired",
                                "code_used", "decision_invalid"))
async def renewal_code(body: CodeIn, request: Request, renewals: RenewalsDep):
    """No sign-in: the code from the renewal invoice email looks the renewal up, and with `decision`
    confirms or declines it (once). Tries are limited per visitor."""
    answer = await renewals.by_code(body.code, request.app.state.limiter.client_ip(request),
                                    code_decision(body.decision))
    return answer.as_dict()
