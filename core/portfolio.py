"""Portfolio CSV rows (domain, category, subcategory, listed, backups): parsed and checked whole,
so an import with any bad row imports nothing and names every problem by line."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from core.addresses import normalize_domain
from core.errors import BusinessError
from core.refusals import Refusals, refuse

COLUMNS = ("domain", "category", "subcategory", "listed", "backups")
_TRUE, _FALSE = {"1", "yes", "y", "true", "listed", ""}, {"0", "no", "n", "false", "unlisted"}


@dataclass(frozen=True)
class PortfolioRow:
    line: int
    domain: str
    category: str
    subcategory: str
    listed: bool
    backups: tuple[str, ...]


def parse_portfolio(text: str) -> list[PortfolioRow]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("domain", "category") if c not in (reader.fieldnames or [])]
    if missing:
        raise refuse(Refusals.CSV_COLUMNS, columns=", ".join(COLUMNS), missing=", ".join(missing))
    rows, errors, seen = [], [], {}
    for number, raw in enumerate(reader, start=2):
        try:
            domain = normalize_domain(raw.get("domain") or "")
            category = (raw.get("category") or "").strip()
            if not category:
                raise refuse(Refusals.CATEGORY_EMPTY)
            listed_text = (raw.get("listed") or "").strip().lower()
            if listed_text not in _TRUE | _FALSE:
                raise refuse(Refusals.LISTED_INVALID, listed_text=listed_text[:20])
            backups = tuple(normalize_domain(b) for b in (raw.get("backups") or "").replace(";", " ").split())
            if domain in backups:
                raise refuse(Refusals.BACKUP_SELF)
            if domain in seen:
                raise refuse(Refusals.DUPLICATE, domain=domain, seen=seen[domain])
        except BusinessError as exc:
            errors.append(f"line {number}: {exc.message}")
            continue
        seen[domain] = number
        rows.append(PortfolioRow(number, domain, category[:120], (raw.get("subcategory") or "").strip()[:120],
                                 listed_text in _TRUE, backups))
    if errors:
        shown = "; ".join(errors[:20]) + (f"; and {len(errors) - 20} more" if len(errors) > 20 else "")
        raise refuse(Refusals.CSV_INVALID, shown=shown)
    return rows
