"""Address syntax and normalization: the local part we sell, domains (IDN -> punycode), destinations."""
from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import BusinessError
from core.refusals import Refusals, refuse

LOCAL_MAX = 64
ADDRESS_MAX = 254
_LOCAL_CHARS = re.compile(r"^[a-z0-9._-]+$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# Destinations are other people's mailboxes: accept the dot-atom RFC 5322 allows, not quoted forms.
_DEST_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")


def normalize_local_part(raw: str, field: str = "local_part") -> str:
    """Trim and case-fold a wanted name, then refuse anything we would not create on cPanel."""
    if raw is None:
        raw = ""
    name = raw.strip().casefold()
    if not name:
        raise refuse(Refusals.LOCAL_PART_EMPTY, field)
    if len(name) > LOCAL_MAX:
        raise refuse(Refusals.LOCAL_PART_TOO_LONG, field, local_max=LOCAL_MAX)
    if "+" in name:
        raise refuse(Refusals.LOCAL_PART_PLUS, field)
    if not _LOCAL_CHARS.match(name):
        if any(ord(c) < 32 or ord(c) == 127 for c in name):
            raise refuse(Refusals.LOCAL_PART_BAD_CHARACTERS, field)
        raise refuse(Refusals.LOCAL_PART_BAD_CHARACTERS, field,
                     message="Use only letters a-z, digits, dots, hyphens and underscores.")
    if name.startswith(".") or name.endswith("."):
        raise refuse(Refusals.LOCAL_PART_DOT_POSITION, field)
    if ".." in name:
        raise refuse(Refusals.LOCAL_PART_DOUBLE_DOT, field)
    return name


def normalize_domain(raw: str, field: str = "domain") -> str:
    """Lower-case ASCII (punycode) form of a domain; Unicode input is IDNA-encoded."""
    name = (raw or "").strip().rstrip(".").lower()
    if not name:
        raise refuse(Refusals.DOMAIN_EMPTY, field)
    if len(name) > 253:
        raise refuse(Refusals.DOMAIN_INVALID, field)
    try:
        ascii_name = name.encode("idna").decode("ascii")
    except UnicodeError:
        raise refuse(Refusals.DOMAIN_INVALID, field, message="That is not a valid domain name.") from None
    labels = ascii_name.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise refuse(Refusals.DOMAIN_INVALID, field, message="That is not a valid domain name.")
    return ascii_name


def display_domain(ascii_name: str) -> str:
    """The Unicode form people read; falls back to the stored form if it is not valid punycode."""
    if "xn--" not in ascii_name:
        return ascii_name
    try:
        return ascii_name.encode("ascii").decode("idna")
    except UnicodeError:
        return ascii_name


@dataclass(frozen=True)
class Address:
    local_part: str
    domain: str

    @property
    def email(self) -> str:
        return f"{self.local_part}@{self.domain}"

    @classmethod
    def parse(cls, local_part: str, domain: str) -> "Address":
        return cls(normalize_local_part(local_part), normalize_domain(domain))

    @classmethod
    def from_email(cls, email: str, field: str = "address") -> "Address":
        local, sep, domain = (email or "").strip().rpartition("@")
        if not sep:
            raise refuse(Refusals.ADDRESS_INVALID, field)
        return cls(normalize_local_part(local, field), normalize_domain(domain, field))


def normalize_destination(raw: str, field: str = "destination") -> str:
    """A forwarding destination: any deliverable address; its domain is lower-cased, local kept."""
    text = (raw or "").strip()
    if not text:
        raise refuse(Refusals.DESTINATION_EMPTY, field)
    if len(text) > ADDRESS_MAX or any(ord(c) < 33 or ord(c) == 127 for c in text) or "," in text:
        raise refuse(Refusals.DESTINATION_INVALID, field)
    local, sep, domain = text.rpartition("@")
    if not sep or not local or len(local) > LOCAL_MAX or not _DEST_LOCAL.match(local):
        raise refuse(Refusals.DESTINATION_INVALID, field)
    try:
        domain = normalize_domain(domain, field)
    except BusinessError:
        raise refuse(Refusals.DESTINATION_INVALID, field, message="The part after @ is not a valid domain.") from None
    return f"{local}@{domain}"


def forwarding_loop(address: str, destination: str, next_hop, limit: int = 50) -> list[str] | None:
    """The chain `address -> destination -> ...` through addresses we host, if it comes back to
    `address` (or cycles); None when it leaves our system or ends in a mailbox. `next_hop(a)` gives
    where a hosted forwarder `a` delivers, or None."""
    return forwarding_circle(address, destination, lambda a: [h] if (h := next_hop(a)) is not None else [], limit)


def forwarding_circle(address: str, destination: str, next_hops, limit: int = 50) -> list[str] | None:
    """As `forwarding_loop`, where a hosted address may deliver to several places at once (cPanel
    keeps one line per destination; a confirmed change adds its new one before the old goes):
    `next_hops(a)` gives every destination of `a`. The first circle found, spelled out, or None."""
    done: set[str] = set()          # explored without finding a circle

    def walk(path: list[str]) -> list[str] | None:
        if len(path) > limit:
            return path
        for hop in next_hops(path[-1]):
            if hop in path:
                return [*path, hop]
            if hop not in done:
                found = walk([*path, hop])
                if found:
                    return found
        done.add(path[-1])
        return None

    if destination == address:
        return [address, address]
    return walk([address, destination])


def circle_sentence(loop: list[str]) -> str:
    """The refusal a customer reads for a circle `forwarding_circle` found."""
    return "That would send mail round in a circle: " + " → ".join(loop) + "."
