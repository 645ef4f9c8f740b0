"""The availability grid: up to N names × M domains in one request, every cell with a status, and
for each cell that is gone up to five alternatives that are actually free (backup domains first,
then variants of the name)."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from core.addresses import display_domain, normalize_domain
from core.availability import PUBLIC, Cell, WantedName, parse_names, variants
from core.refusals import Refusals, refuse
from store import availability as facts_store
from store.availability import DomainRef

MAX_SUGGESTIONS = 5
VARIANTS_PER_NAME = 4   # backups come first, so four variants always fill five offers


class Portfolio:
    """Domains and their backups, kept in memory by the API and re-read every `ttl` seconds:
    the grid then touches the database once per request. An import shows within `ttl`."""

    def __init__(self, ttl: float = 30.0):
        self._ttl = ttl
        self._loaded_at = -1e9
        self._lock = asyncio.Lock()
        self.listed: dict[str, DomainRef] = {}
        self.backups: dict[int, list[DomainRef]] = {}
        self.orderable: dict[str, DomainRef] = {}   # listed, and the backups they offer

    async def fresh(self, session: AsyncSession) -> "Portfolio":
        if time.monotonic() - self._loaded_at > self._ttl:
            async with self._lock:
                if time.monotonic() - self._loaded_at > self._ttl:
                    self.listed, self.backups = await facts_store.portfolio_refs(session)
                    self.orderable = {**{b.name: b for bs in self.backups.values() for b in bs}, **self.listed}
                    self._loaded_at = time.monotonic()
        return self


@dataclass
class GridCell:
    name: str                  # as normalized (or as typed, when invalid)
    domain: str                # Unicode form for people
    domain_ascii: str
    address: str | None
    status: Cell
    reason: str = ""
    suggestions: list[str] = field(default_factory=list)

    def public(self, operator: bool) -> dict:
        cell = {"name": self.name, "domain": self.domain, "address": self.address,
                "status": self.status.value if operator else PUBLIC[self.status]}
        if self.status is Cell.INVALID or operator:
            cell["reason"] = self.reason
        if self.suggestions:
            cell["suggestions"] = self.suggestions
        return cell


_REASONS = {Cell.TAKEN: "sold or held in a checkout", Cell.EXISTS: "exists on the cPanel account",
            Cell.RESERVED: "reserved name"}


async def check_grid(session: AsyncSession, raw_names: list[str], raw_domains: list[str], *, max_names: int,
                     max_domains: int, initial: str = "", suggest: bool = True,
                     portfolio: Portfolio | None = None) -> list[GridCell]:
    wanted = parse_names(raw_names, max_names)
    cleaned = [d for d in dict.fromkeys((d or "").strip() for d in raw_domains) if d]
    if not cleaned:
        raise refuse(Refusals.DOMAINS_EMPTY, "domains")
    if len(cleaned) > max_domains:
        raise refuse(Refusals.DOMAINS_TOO_MANY, "domains", max_domains=max_domains)
    ascii_names = [normalize_domain(d, "domains") for d in cleaned]
    # Without the API's cached portfolio (a one-off check), read it now.
    portfolio = await (portfolio or Portfolio(ttl=0)).fresh(session)
    listed = portfolio.listed
    unknown = [d for d in ascii_names if d not in listed]
    if unknown:
        raise refuse(Refusals.DOMAIN_UNKNOWN, "domains", domain=display_domain(unknown[0]))
    domains = [listed[d] for d in dict.fromkeys(ascii_names)]

    names = [w.name for w in wanted if w.name]
    backups = portfolio.backups
    alternatives = {n: variants(n, initial, limit=VARIANTS_PER_NAME) for n in names} if suggest else {}
    # One round trip answers the grid and every alternative it may offer: the names and their
    # variants at the chosen domains and their backups (the query is bounded by names and domains).
    every_name = names + [v for vs in alternatives.values() for v in vs]
    every_domain = domains + [b for d in domains for b in backups.get(d.id, [])] if suggest else domains
    known = await facts_store.facts(session, every_name, every_domain)
    cells = [_cell(w, d, known) for w in wanted for d in domains]
    if suggest:
        by_ascii = {d.name: d for d in domains}
        for cell in cells:
            if cell.status not in (Cell.AVAILABLE, Cell.INVALID):
                domain = by_ascii[cell.domain_ascii]
                offers = [f"{cell.name}@{b.display}" for b in backups.get(domain.id, [])
                          if known.status(b.id, cell.name) is Cell.AVAILABLE]
                offers += [f"{v}@{domain.display}" for v in alternatives[cell.name]
                           if known.status(domain.id, v) is Cell.AVAILABLE]
                cell.suggestions = offers[:MAX_SUGGESTIONS]
    return cells


def _cell(wanted: WantedName, domain: DomainRef, known: facts_store.Facts) -> GridCell:
    if wanted.name is None:
        return GridCell(wanted.raw, domain.display, domain.name, None, Cell.INVALID, wanted.reason)
    status = known.status(domain.id, wanted.name)
    return GridCell(wanted.name, domain.display, domain.name, f"{wanted.name}@{domain.name}", status,
                    _REASONS.get(status, ""))
