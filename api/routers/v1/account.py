"""/api/v1/account: the credit balance and its ledger, auto-renew and apply-credit."""
from __future__ import annotations

from fastapi import APIRouter

from api.deps import BillingDep, CsrfHeader, RenewalsDep, SessionsDep, SettingsDep, SignedIn
from api.schemas.account import ApplyCreditIn, ApplyCreditOut, AutoRenewIn, AutoRenewOut, CreditOut
from api.schemas.common import SIGNED_IN, WRITE, refusals
from core.money import Money
from store import credit

router = APIRouter(prefix="/api/v1/account", tags=["account"])


@router.get("/credit", response_model=CreditOut, responses=refusals(*SIGNED_IN))
async def my_credit(client: SignedIn, sessions: SessionsDep, settings: SettingsDep):
    async with sessions() as session:
        rows = await credit.entries(session, client.id)
        balance = await credit.balance(session, client.id, settings.currency)
    return {"balance": balance.amount(), "currency": balance.currency, "auto_renew": client.auto_renew,
            "apply_credit": client.apply_credit,
            "entries": [{"at": e.created_at.isoformat(timespec="seconds") if e.created_at else None,
                         "amount": Money(e.amount_minor, e.currency).amount(), "kind": e.kind, "reason": e.reason,
                         "reference": e.reference} for e in rows]}


@router.put("/auto-renew", dependencies=[CsrfHeader], response_model=AutoRenewOut, responses=refusals(*WRITE))
async def set_auto_renew(body: AutoRenewIn, client: SignedIn, renewals: RenewalsDep):
    """On: renewal invoices are paid from your credit balance when it covers them."""
    await renewals.set_auto_renew(client, body.enabled)
    return {"auto_renew": body.enabled}


@router.put("/apply-credit", dependencies=[CsrfHeader], response_model=ApplyCreditOut, responses=refusals(*WRITE))
async def set_apply_credit(body: ApplyCreditIn, client: SignedIn, billing: BillingDep):
    """On (the default): each new invoice is paid from your credit balance as far as it goes."""
    await billing.set_apply_credit(client, body.enabled)
    return {"apply_credit": body.enabled}
