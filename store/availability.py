"""What the database knows about names at domains, in one query whatever the grid size: live
holders, the cPanel inventory, reserved patterns; and the listed domains with their backups."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core.addresses import display_domain
from core.availability import Cell, classify
from store.models import LIVE_SQL, Domain, DomainBackup


@dataclass
class Facts:
    held: set[tuple[int, str]] = field(default_factory=set)        # (domain id, name) with a live holder
    on_server: set[tuple[int, str]] = field(default_factory=set)   # on cPanel and not ours
    exact: dict[int | None, set[str]] = field(default_factory=dict)
    prefixes: dict[int | None, list[str]] = field(default_factory=dict)
    _reserved: dict[int, tuple[frozenset[str], tuple[str, ...]]] = field(default_factory=dict)

    def reserved_for(self, domain_id: int) -> tuple[frozenset[str], tuple[str, ...]]:
        """Global and per-domain entries combined once per domain, not once per cell."""
        if domain_id not in self._reserved:
            self._reserved[domain_id] = (
                frozenset(self.exact.get(None, _NONE) | self.exact.get(domain_id, _NONE)),
                tuple(self.prefixes.get(None, []) + self.prefixes.get(domain_id, [])))
        return self._reserved[domain_id]

    def status(self, domain_id: int, name: str) -> Cell:
        key = (domain_id, name)
        exact, prefixes = self.reserved_for(domain_id)
        return classify(name, key in self.held, key in self.on_server, exact, prefixes)


_NONE: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class DomainRef:
    """What a check needs of a domain, as a plain value: no ORM attribute machinery per cell, and
    the Unicode form computed once."""
    id: int
    name: str
    display: str

    @classmethod
    def of(cls, domain: Domain) -> "DomainRef":
        return cls(domain.id, domain.name, display_domain(domain.name))


async def portfolio_refs(session: AsyncSession) -> tuple[dict[str, DomainRef], dict[int, list[DomainRef]]]:
    """Every listed domain by name, and each one's backups in order of preference: two queries."""
    listed = {d.name: DomainRef.of(d) for d in (await session.execute(
        select(Domain).where(Domain.listed.is_(True)))).scalars()}
    backup = aliased(Domain)
    rows = (await session.execute(
        select(DomainBackup.domain_id, backup).join(backup, backup.id == DomainBackup.backup_id)
        .join(Domain, Domain.id == DomainBackup.domain_id).where(Domain.listed.is_(True))
        .order_by(DomainBackup.domain_id, DomainBackup.position))).all()
    backups: dict[int, list[DomainRef]] = {}
    for domain_id, domain in rows:
        backups.setdefault(domain_id, []).append(DomainRef.of(domain))
    return listed, backups


# One fixed statement text: on PostgreSQL every list is one array parameter, so the statement is
# prepared once per connection and its plan reused. Live holders come from the partial index on
# (local_part, domain_id): one range per name, with the domain ids as a filter (`+ 0` keeps the
# planner from intersecting with the per-domain index, which costs 40 times more at scale).
_FACTS_SQL = f"""
SELECT 'h' AS src, domain_id, local_part AS name, false AS is_prefix FROM address_subscriptions
 WHERE local_part {{names}} AND domain_id + 0 {{ids}} AND {LIVE_SQL}
UNION ALL
SELECT 'i', domain_id, local_part, false FROM cpanel_inventory
 WHERE domain_id {{ids}} AND local_part {{names}}
UNION ALL
SELECT 'r', domain_id, pattern, is_prefix FROM reserved_names
 WHERE (domain_id IS NULL OR domain_id {{ids}}) AND (pattern {{names}} OR is_prefix)"""
# PostgreSQL goes straight to psycopg, and each list travels as one array literal: on the hottest read
# we have, SQLAlchemy's execution layer and psycopg's per-item list adaptation each cost more than
# the query itself.
_FACTS_PG = _FACTS_SQL.format(ids="= ANY(%(ids)s::int[])", names="= ANY(%(names)s::text[])")
_FACTS_OTHER = text(_FACTS_SQL.format(ids="IN :ids", names="IN :names")).bindparams(
    bindparam("ids", expanding=True), bindparam("names", expanding=True))


def _pg_array(items: Iterable) -> str:
    """A PostgreSQL array literal; every element quoted, backslash and quote escaped."""
    return "{" + ",".join('"' + str(x).replace("\\", "\\\\").replace('"', '\\"') + '"' for x in items) + "}"


async def facts(session: AsyncSession, names: Iterable[str], domains: Iterable[Domain | DomainRef]) -> Facts:
    """One round trip for names × domains, whatever their number: live holders, the cPanel
    inventory and reserved entries, as one UNION ALL. `status()` answers for any of the names at
    any of the domains; the work is bounded by the names and the domains, not by their product."""
    names = list(dict.fromkeys(names))
    ids = list({domain.id for domain in domains})
    if not names or not ids:
        return Facts()
    connection = await session.connection()  # the session's own connection and transaction
    if connection.dialect.name == "postgresql":
        driver = (await connection.get_raw_connection()).driver_connection
        params = {"ids": _pg_array(ids), "names": _pg_array(names)}
        rows = await (await driver.execute(_FACTS_PG, params, prepare=True)).fetchall()
    else:
        rows = (await connection.execute(_FACTS_OTHER, {"ids": ids, "names": names})).all()
    found = Facts()
    inventory: set[tuple[int, str]] = set()
    for src, domain_id, name, is_prefix in rows:
        if src == "h":
            found.held.add((domain_id, name))
        elif src == "i":
            inventory.add((domain_id, name))
        elif is_prefix:
            found.prefixes.setdefault(domain_id, []).append(name[:-1])
        else:
            found.exact.setdefault(domain_id, set()).add(name)
    found.on_server = inventory - found.held  # what we sold is on cPanel too
    return found


async def orderable_domain(session: AsyncSession, name: str) -> Domain | None:
    """A listed domain, or an unlisted one that serves as a backup of a listed domain."""
    domain = (await session.execute(select(Domain).where(Domain.name == name))).scalar_one_or_none()
    if domain is None or domain.listed:
        return domain
    parent = aliased(Domain)
    is_backup = (await session.execute(
        select(DomainBackup.id).join(parent, parent.id == DomainBackup.domain_id)
        .where(DomainBackup.backup_id == domain.id, parent.listed.is_(True)).limit(1))).first()
    return domain if is_backup else None
