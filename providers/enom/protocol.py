"""What mailmarket needs from the registrar, and what an Enom error number means for us."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from providers.errors import LogicalError, TechnicalError

__all__ = ["RegistrarAPI", "ExtendResult", "EnomVerdict", "LogicalError", "TechnicalError", "classify_enom_error",
           "split_domain"]


@dataclass(frozen=True)
class ExtendResult:
    order_id: str
    new_expiry: date | None


def split_domain(domain: str) -> tuple[str, str]:
    """SLD and TLD as Enom wants them: `accordionist.org` -> (`accordionist`, `org`).
    The SLD is the first label; multi-label TLDs (`co.uk`) stay whole on the right."""
    sld, _, tld = domain.partition(".")
    return sld, tld


@dataclass(frozen=True)
class EnomVerdict:
    technical: bool      # True: retry (our account, Enom or the registry is in trouble); False: the registry said no
    kind: str            # what it means, for the operator's alert: credentials, ip_not_allowed, balance, ...


# Error bits (the 2nd and 3rd digits of S EE PPP) that say "try again later", whatever the system digit.
_TRANSIENT_BITS = {"07": "connection_failed", "18": "maintenance", "21": "failed_to_process"}
# Parameter bits (4th-6th digits) that name our own account rather than the domain.
_ACCOUNT_PARAMS = {"155": "credentials", "156": "credentials", "157": "credentials", "181": "balance"}


def classify_enom_error(number: str, texts: list[str] | tuple[str, ...] = ()) -> EnomVerdict:
    """An Enom `ResponseNumber` (6 digits, S EE PPP; provider-contracts-2 §3.4) and its `Err` texts,
    classified by what they mean rather than by family alone:

    - technical: bad credentials (filed as validation errors, 304155/304156), the IP allow-list
      (713254, "User not permitted from this IP address"), authentication (4xxxxx), system errors
      (6xxxxx), connection failures (x07), maintenance (x18), failed to process (x21), the reseller's
      money (5xxxxx: bits 19 "failed to deduct" and 24 "insufficient balance", and the rest of the
      payment family, which is about our account too), and numbers we cannot read (0xxxxx, 1xxxxx);
    - logical: every other registry (2), validation (3) or policy (7) refusal, which is about the
      domain or the request itself (not found, not active, period too long, a duplicate renewal).

    Without a number, the texts decide only the two account cases Enom is known to word that way;
    anything else is the registry refusing."""
    joined = " ".join(texts).lower()
    digits = (number or "").strip()
    if len(digits) != 6 or not digits.isdigit():
        if "not permitted from this ip" in joined:
            return EnomVerdict(True, "ip_not_allowed")
        if "invalid ; password" in joined or "invalid ; loginid" in joined or "invalid password" in joined:
            return EnomVerdict(True, "credentials")
        return EnomVerdict(False, "refused")
    system, bits, param = digits[0], digits[1:3], digits[3:]
    if bits in _TRANSIENT_BITS:
        return EnomVerdict(True, _TRANSIENT_BITS[bits])
    if system == "6":
        return EnomVerdict(True, "system")
    if system == "5":
        return EnomVerdict(True, "balance")
    if system == "4":
        return EnomVerdict(True, "credentials")
    if system in "01":
        return EnomVerdict(True, "unknown")
    if system == "7" and bits == "13" and (param == "254" or "ip address" in joined):
        return EnomVerdict(True, "ip_not_allowed")
    if param in _ACCOUNT_PARAMS and system in "37":
        return EnomVerdict(True, _ACCOUNT_PARAMS[param])
    return EnomVerdict(False, "refused")


class RegistrarAPI(Protocol):
    async def check(self, domain: str) -> bool: ...
    async def get_expiry(self, domain: str) -> date: ...
    async def extend(self, domain: str, years: int) -> ExtendResult: ...
