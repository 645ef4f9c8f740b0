"""Placing an order: validate every line, reserve the addresses with the order and its invoice in
one transaction, and describe the order workflow to start. Nothing is written on a refusal."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core.addresses import normalize_destination, normalize_domain, normalize_local_part
from core.availability import Cell
from core.refusals import Refusals, refuse
from core.money import Money
from core.promos import PromoLine, discounts, normalize_code
from core.passwords import check_mailbox_password
from core.pricing import Kind, PriceList, parse_kind
from core.statuses import BillingMode
from core.terms import check_term_fits_registry, validate_term
from settings import Settings
from store import availability, orders, promos, secrets
from api.services.destinations import check_destination
from store.secrets import SecretBox
from store.models import Client, Order, PromoCode
from workflows.contracts import AddressLine, OrderInput, address_workflow_id, order_input

MAX_LINES = 20


@dataclass(frozen=True)
class WantedAddress:
    local_part: str
    domain: str
    kind: str
    years: int
    destination: str
    password: str = ""   # mailboxes only; never stored in clear, never in workflow history


def price_list(settings: Settings) -> PriceList:
    return settings.prices()


async def validate_lines(session: AsyncSession, settings: Settings, wanted: list[WantedAddress],
                         today) -> list[orders.LineSpec]:
    if not wanted:
        raise refuse(Refusals.ORDER_EMPTY, "lines")
    if len(wanted) > MAX_LINES:
        raise refuse(Refusals.ORDER_TOO_LARGE, "lines", max_lines=MAX_LINES)
    prices = price_list(settings)
    specs: list[orders.LineSpec] = []
    seen: set[str] = set()
    for i, w in enumerate(wanted):
        prefix = f"lines.{i}."
        local = normalize_local_part(w.local_part, prefix + "local_part")
        domain_name = normalize_domain(w.domain, prefix + "domain")
        kind = parse_kind(w.kind, prefix + "kind")
        terms = settings.terms_for(kind.value)
        years = validate_term(w.years, terms, prefix + "years")
        check_term_fits_registry(today, years, prefix + "years")
        if kind is Kind.MAILBOX:
            destination = ""
            check_mailbox_password(w.password, local, domain_name, prefix + "password")
        else:
            destination = normalize_destination(w.destination, prefix + "destination")
        domain = await availability.orderable_domain(session, domain_name)
        if domain is None:
            raise refuse(Refusals.DOMAIN_UNKNOWN, prefix + "domain", domain=domain_name)
        address = f"{local}@{domain.name}"
        if address in seen:
            raise refuse(Refusals.ADDRESS_REPEATED, prefix + "local_part", address=address)
        seen.add(address)
        if kind is Kind.FORWARDER:
            destination = await check_destination(session, address, destination, prefix + "destination")
        known = await availability.facts(session, [local], [domain])
        status = known.status(domain.id, local)
        if status is not Cell.AVAILABLE:
            raise refuse(Refusals.ADDRESS_TAKEN if status is Cell.TAKEN else Refusals.ADDRESS_UNAVAILABLE,
                         prefix + "local_part", message=f"{address} is not available.", status=409)
        specs.append(orders.LineSpec(local, domain, kind.value, years, destination, prices.per_year(kind)))
    return specs


async def apply_promo(session: AsyncSession, client: Client, specs: list[orders.LineSpec], raw_code: str,
                      now: datetime) -> tuple[list[orders.LineSpec], PromoCode]:
    """The lines with the code's discount on each, or the reason the code cannot be used. The code's
    row stays locked until the order is written, so its limits hold under concurrent checkouts."""
    promo = await promos.locked(session, normalize_code(raw_code))
    rule = promos.rule_of(promo)
    off = discounts(rule, [PromoLine(s.kind, s.domain.name, s.unit_price.times(s.years)) for s in specs], now=now,
                    uses=await promos.uses(session, promo.id), client_uses=await promos.uses(session, promo.id, client.id))
    return [replace(s, discount=d, promo_code=promo.code) for s, d in zip(specs, off)], promo


async def place(session: AsyncSession, settings: Settings, client: Client, wanted: list[WantedAddress],
                now: datetime, promo_code: str = "") -> tuple[Order, OrderInput]:
    """Write the order; the caller commits and then starts the workflow described by OrderInput."""
    specs = await validate_lines(session, settings, wanted, now.date())
    promo = None
    if promo_code.strip():
        specs, promo = await apply_promo(session, client, specs, promo_code, now)
    mode = client.billing_mode
    if promo is not None and mode == BillingMode.EXEMPT:
        raise refuse(Refusals.PROMO_NOT_APPLICABLE, "promo_code", status=422,
                     message="Your account is not invoiced, so a promo code has nothing to take off; remove it and "
                             "place the order.")
    due_at = now + (timedelta(days=settings.postpaid_due_days) if mode == BillingMode.POSTPAID
                    else timedelta(minutes=settings.checkout_hold_minutes))
    order, invoice, subs = await orders.place_order(session, client, specs, now=now, due_at=due_at,
                                                    workflow_id_for=address_workflow_id,
                                                    terms=settings.invoice_terms(client), billing_mode=mode)
    if promo is not None and invoice is not None:
        await promos.redeem(session, promo, client.id, order.id, Money(invoice.discount_minor, invoice.currency))
    box = SecretBox(settings.secrets_key.get_secret_value())
    for sub, spec, w in zip(subs, specs, wanted):
        if spec.kind == Kind.MAILBOX.value:
            await secrets.keep_mailbox_password(session, box, sub.id, w.password)
    lines = [AddressLine(subscription_id=sub.id, address=sub.address, local_part=sub.local_part,
                         domain=spec.domain.name, kind=spec.kind, years=spec.years, destination=spec.destination,
                         client_id=client.id, client_email=client.email, client_name=client.name,
                         quota_mb=settings.mailbox_quota_mb if spec.kind == Kind.MAILBOX.value else 0)
             for sub, spec in zip(subs, specs)]
    return order, order_input(order, invoice, client, lines,
                              payment_deadline_minutes=settings.paypal_approval_minutes,
                              coverage_margin_days=settings.coverage_margin_days,
                              hold_minutes=settings.checkout_hold_minutes,
                              manual_deadline_days=settings.manual_payment_days, life=settings.lifecycle(),
                              dunning=settings.dunning())
