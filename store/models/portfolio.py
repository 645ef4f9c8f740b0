"""The domain portfolio: categories, domains and their backups, cPanel inventory, reserved names,
registry renewals."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from core.addresses import display_domain
from core.statuses import RegistryOutcome
from store.models.base import Base, _now


class Category(Base):
    """Two levels: a category (parent_id NULL) and its subcategories."""

    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("parent_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(160), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), nullable=True)
    parent: Mapped[Category | None] = relationship(remote_side=[id])


class Domain(Base):
    __tablename__ = "domains"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(253), unique=True)  # ASCII (punycode) form
    # the Unicode form people type (münchen.de), kept so a partial search matches it too
    display_name: Mapped[str] = mapped_column(String(253), default="", server_default="")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    registrar_expiry: Mapped[date | None] = mapped_column(Date, nullable=True)
    listed: Mapped[bool] = mapped_column(Boolean, default=True)
    owner_client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    category: Mapped[Category | None] = relationship()

    @validates("name")
    def _derive_display(self, _key: str, name: str) -> str:
        self.display_name = display_domain(name)
        return name


class DomainBackup(Base):
    """An ordered fallback domain offered when a name is gone (ArmyVeterans.us -> ArmyVets.us)."""

    __tablename__ = "domain_backups"
    __table_args__ = (UniqueConstraint("domain_id", "backup_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id"), index=True)
    backup_id: Mapped[int] = mapped_column(ForeignKey("domains.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)


class CpanelInventory(Base):
    """Forwarders and mailboxes found on the cPanel account, synced per domain, so an availability
    check never calls cPanel. Includes what we sold; the grid tells the two apart."""

    __tablename__ = "cpanel_inventory"
    __table_args__ = (UniqueConstraint("domain_id", "local_part", "kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id"), index=True)
    local_part: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReservedName(Base):
    """A name nobody may buy: global when domain_id is NULL; `admin*` is a prefix pattern."""

    __tablename__ = "reserved_names"
    __table_args__ = (UniqueConstraint("domain_id", "pattern"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain_id: Mapped[int | None] = mapped_column(ForeignKey("domains.id"), nullable=True)
    pattern: Mapped[str] = mapped_column(String(65), index=True)
    # prefix entries (`admin*`) are few and always fetched; exact ones are looked up by name
    is_prefix: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"), index=True)
    reason: Mapped[str] = mapped_column(String(200), default="")

    @validates("pattern")
    def _derive_prefix(self, _key: str, pattern: str) -> str:
        self.is_prefix = pattern.endswith("*")
        return pattern


class RegistryRenewal(Base):
    """Every `Extend` we send to the registrar, before it goes, and what came of it: `sent` (no
    answer yet, or none ever: a lost answer), `extended`, `refused`. Enom refuses a second renewal
    of a domain within 24 hours; this record tells that refusal from the others (migration 0016)."""

    __tablename__ = "registry_renewals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), index=True)   # the registrar's name, not domains.id
    years: Mapped[int] = mapped_column(Integer)
    expiry_before: Mapped[date] = mapped_column(Date)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(10), default=RegistryOutcome.SENT, info={"statuses": RegistryOutcome})
    expiry_after: Mapped[date | None] = mapped_column(Date, nullable=True)
