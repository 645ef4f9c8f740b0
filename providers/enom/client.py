"""The real Enom client: `GET interface.asp?command=...&uid=...&pw=...&responsetype=xml`.

An answer with `ErrCount` > 0 is classified by its `ResponseNumber` (`classify_enom_error`): our
account's trouble (credentials, IP allow-list, balance) and Enom's (system, connection, maintenance)
are technical; the registry refusing the domain is logical. `Extend` never sends `OverrideOrder=1`:
Enom's refusal of a second renewal within 24 hours is what keeps a retried Extend from renewing twice."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, datetime

import httpx

from providers.enom.protocol import ExtendResult, classify_enom_error, split_domain
from providers.errors import LogicalError, TechnicalError

_DATE_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S")


def parse_enom_date(text: str) -> date:
    cleaned = (text or "").strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    raise TechnicalError(f"Enom sent a date we cannot read: {cleaned!r}", provider="enom")


class EnomClient:
    def __init__(self, url: str, uid: str, pw: str, *, timeout: float = 30.0,
                 transport: httpx.AsyncBaseTransport | None = None):
        self._url = url
        self._auth = {"uid": uid, "pw": pw, "responsetype": "xml"}
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, command: str, **params: str | int) -> ET.Element:
        query = {"command": command, **self._auth, **{k: str(v) for k, v in params.items()}}
        try:
            response = await self._http.get(self._url, params=query)
        except httpx.TimeoutException as exc:
            raise TechnicalError(f"Enom {command} timed out", provider="enom", kind="timeout") from exc
        except httpx.TransportError as exc:
            raise TechnicalError(f"Enom {command} unreachable: {exc.__class__.__name__}", provider="enom",
                                 kind="unreachable") from exc
        if response.status_code != 200:
            raise TechnicalError(f"Enom {command} answered HTTP {response.status_code}", provider="enom",
                                 kind="unreachable")
        try:
            root = ET.fromstring(response.content)
        except ET.ParseError as exc:
            raise TechnicalError(f"Enom {command} answered something that is not XML", provider="enom") from exc
        if root.tag != "interface-response":
            raise TechnicalError(f"Enom {command} answered an unexpected document", provider="enom")
        try:
            failed = int(root.findtext("ErrCount", "0") or 0) > 0
        except ValueError as exc:
            raise TechnicalError(f"Enom {command} answered an unreadable ErrCount", provider="enom") from exc
        if failed:
            errors = [e.text or "" for e in (root.find("errors") or [])]
            number = (root.findtext("responses/response/ResponseNumber", "") or "").strip()
            verdict = classify_enom_error(number, errors)
            text = f"Enom {command}: {'; '.join(errors) or 'error'}" + (f" ({number})" if number else "")
            if verdict.technical:
                raise TechnicalError(text, provider="enom", code=number, kind=verdict.kind)
            raise LogicalError(text, provider="enom", code=number, kind=verdict.kind)
        return root

    async def check(self, domain: str) -> bool:
        sld, tld = split_domain(domain)
        root = await self._call("Check", sld=sld, tld=tld)
        return root.findtext("RRPCode") == "210"

    async def get_expiry(self, domain: str) -> date:
        sld, tld = split_domain(domain)
        root = await self._call("GetDomainExp", sld=sld, tld=tld)
        text = root.findtext("ExpirationDate")
        if not text:
            raise TechnicalError("Enom GetDomainExp answered without an ExpirationDate", provider="enom")
        return parse_enom_date(text)

    async def extend(self, domain: str, years: int) -> ExtendResult:
        sld, tld = split_domain(domain)
        root = await self._call("Extend", sld=sld, tld=tld, NumYears=years)
        if (root.findtext("Extension") or "").lower() != "successful":
            raise LogicalError(f"Enom Extend for {domain} was not successful", provider="enom")
        expiry_text = root.findtext("ExpirationDate")
        return ExtendResult(root.findtext("OrderID", ""), parse_enom_date(expiry_text) if expiry_text else None)
