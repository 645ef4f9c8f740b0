"""Which names × domains can be sold: the status of each cell, reserved-name patterns, and the
name variants offered when a cell is gone. Pure: callers bring what the database knows."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.addresses import normalize_local_part
from core.errors import BusinessError
from core.refusals import Refusals, refuse


class Cell(StrEnum):
    AVAILABLE = "available"
    TAKEN = "taken"          # sold, or held by someone's checkout
    EXISTS = "exists"        # a forwarder or mailbox on the cPanel account that we did not sell
    RESERVED = "reserved"    # global or per-domain reserved name
    INVALID = "invalid"      # the name itself cannot be an address


# What customers are told: reserved and existing names are simply not available.
PUBLIC = {Cell.AVAILABLE: "available", Cell.TAKEN: "taken", Cell.EXISTS: "unavailable",
          Cell.RESERVED: "unavailable", Cell.INVALID: "invalid"}


@dataclass(frozen=True)
class WantedName:
    raw: str
    name: str | None          # normalized, or None when invalid
    reason: str = ""          # why it is invalid (a human sentence)
    code: str = ""


def parse_names(raw_names: list[str], max_names: int) -> list[WantedName]:
    """Normalize each name; invalid ones stay in the grid with their reason. Duplicates fold."""
    if not raw_names or not any((n or "").strip() for n in raw_names):
        raise refuse(Refusals.NAMES_EMPTY, "names")
    if len(raw_names) > max_names:
        raise refuse(Refusals.NAMES_TOO_MANY, "names", max_names=max_names)
    wanted: list[WantedName] = []
    seen: set[str] = set()
    for raw in raw_names:
        shown = (raw or "")[:80]
        try:
            name = normalize_local_part(raw, "names")
        except BusinessError as exc:
            wanted.append(WantedName(shown, None, exc.message, exc.code))
            continue
        if name not in seen:
            seen.add(name)
            wanted.append(WantedName(shown, name))
    return wanted


def valid_pattern(pattern: str) -> str:
    """A reserved entry: an exact name, or a prefix ending in `*` (`admin*`)."""
    text = (pattern or "").strip().casefold()
    body = text[:-1] if text.endswith("*") else text
    if not body:
        raise refuse(Refusals.PATTERN_EMPTY, "pattern")
    normalize_local_part(body.rstrip(".-_") or body, "pattern")
    return text


def is_reserved(name: str, patterns: list[str]) -> bool:
    return any(name.startswith(p[:-1]) if p.endswith("*") else name == p for p in patterns)


def variants(name: str, initial: str = "", limit: int = 8) -> list[str]:
    """Simple alternatives to a name that is gone: `mike.g`, `mikeg`, `mike2`, `mike3`, ..."""
    found: list[str] = []
    initial = "".join(c for c in initial.casefold() if c.isascii() and c.isalnum())[:1]
    candidates = ([f"{name}.{initial}", f"{name}{initial}"] if initial else []) + \
        [f"{name}{n}" for n in range(2, 10)] + [f"{name}.mail", f"the.{name}"]
    for candidate in candidates:
        try:
            ok = normalize_local_part(candidate)
        except BusinessError:
            continue
        if ok != name and ok not in found:
            found.append(ok)
        if len(found) >= limit:
            break
    return found


def classify(name: str, held: bool, on_server: bool, reserved_exact: set[str] | frozenset[str],
             reserved_prefixes: tuple[str, ...]) -> Cell:
    """Sold or held beats everything; then what exists on cPanel; then reserved names."""
    if held:
        return Cell.TAKEN
    if on_server:
        return Cell.EXISTS
    if name in reserved_exact or (reserved_prefixes and name.startswith(reserved_prefixes)):
        return Cell.RESERVED
    return Cell.AVAILABLE
