"""An Enom reseller API sandbox: `interface.asp` with XML `interface-response` documents.

Domains are registered to the sandbox with `POST /__sandbox/domains [{"name": ..., "expiry": "YYYY-MM-DD"}]`;
`POST /__sandbox/clock {"today": "YYYY-MM-DD"}` moves the day its 10-year limit counts from (and the
clock its 24-hour renewal rule reads). As strict as Enom about the reseller's account, with
`POST /__sandbox/account {"uid": ..., "pw": ..., "allowed_ips": [...], "balance": "9.95"}` (each key
optional; `allowed_ips` empty or null = any, `balance` null = unlimited) to revoke the API token, fence
the caller's IP out or run the balance down: answers carry Enom's numbers (304155 login id, 304156
password, 713254 IP address, 524181 insufficient balance). `POST /__sandbox/errors [{"match": "Extend",
"times": 1, "number": "618000", "text": "System error"}]` makes matching calls (`match`: a substring of
the command, "" = any) answer that Enom error instead.

Enom refuses a second `Extend` of a domain within 24 hours of the first unless `OverrideOrder=1` is
sent; so does the sandbox, with ErrCount=1 and an Err1 text (no ResponseNumber: none is documented).
Refused renewals are listed under `refused` in `/__sandbox/state`.
Run alone: `python -m providers.enom.sandbox --port 8103`.
"""
from __future__ import annotations

import argparse
import itertools
import threading
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from xml.sax.saxutils import escape

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.clock import Calendar
from core.terms import add_years, registry_limit
from providers.sandbox_kit import FaultPlan, sandbox_app, serve


def _xml(command: str, body: str = "", errors: list[str] | None = None, number: str = "",
         response_string: str = "") -> Response:
    errors = errors or []
    err_xml = ""
    if errors:
        err_xml = "<errors>" + "".join(f"<Err{i}>{escape(e)}</Err{i}>" for i, e in enumerate(errors, 1)) + "</errors>"
    if number:
        err_xml += (f"<responses><response><ResponseNumber>{escape(number)}</ResponseNumber>"
                    f"<ResponseString>{escape(response_string or errors[0])}</ResponseString></response></responses>")
    doc = (
        '<?xml version="1.0"?>\n<interface-response>'
        f"{body}<Command>{command.upper()}</Command><Language>eng</Language>"
        f"<ErrCount>{len(errors)}</ErrCount>{err_xml}<ResponseCount>{len(errors)}</ResponseCount>"
        "<MinPeriod>1</MinPeriod><MaxPeriod>10</MaxPeriod><Server>SANDBOX</Server><Site>eNom</Site>"
        "<Done>true</Done><debug><![CDATA[]]></debug></interface-response>"
    )
    return Response(doc, media_type="text/xml")


def _us(day: date) -> str:
    return datetime(day.year, day.month, day.day, 12, 0, 0).strftime("%-m/%-d/%Y %-I:%M:%S %p")


class EnomState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.domains: dict[str, date] = {}
        self.extensions: list[dict] = []
        self.refused: list[dict] = []
        self.renewed_at: dict[str, datetime] = {}     # each domain's last renewal, for the 24-hour rule
        self.order_ids = itertools.count(157600000)
        self.account: dict = {"uid": "", "pw": "", "allowed_ips": [], "balance": None}
        self.initial_account: dict = dict(self.account)
        self.errors: list[dict] = []

    def snapshot(self) -> dict:
        with self.lock:
            balance = self.account["balance"]
            return {"domains": {d: e.isoformat() for d, e in sorted(self.domains.items())},
                    "extensions": list(self.extensions), "refused": list(self.refused),
                    "balance": str(balance) if balance is not None else None}

    def reset(self) -> None:
        with self.lock:
            self.domains.clear()
            self.extensions.clear()
            self.refused.clear()
            self.renewed_at.clear()
            self.errors.clear()
            self.account = dict(self.initial_account)

    def injected_error(self, command: str) -> dict | None:
        for rule in self.errors:
            if rule.get("times", 1) != 0 and rule.get("match", "").lower() in command.lower():
                if rule.get("times", 1) > 0:
                    rule["times"] = rule.get("times", 1) - 1
                return rule
        return None


PRICE_PER_YEAR = Decimal("9.95")
RENEWAL_GUARD = timedelta(hours=24)
DUPLICATE_RENEWAL = ("This domain name was renewed less than 24 hours ago; to renew it again within 24 hours "
                     "of the first transaction, send OverrideOrder=1")


def create_app(uid: str = "mailmkt", pw: str = "sandbox-enom-token", today=date.today) -> Starlette:
    state = EnomState()
    state.account.update(uid=uid, pw=pw)
    state.initial_account = dict(state.account)
    plan = FaultPlan()
    clock: dict[str, date | None] = {"today": None}   # a test that skips years moves the registry's day too

    def registry_today() -> date:
        return clock["today"] or today()

    def registry_now() -> datetime:
        """Wall-clock time, moved by as many days as the registry's day is ahead of the real one."""
        return datetime.now(timezone.utc) + timedelta(days=(registry_today() - date.today()).days)

    def refusal(p: dict, caller: str) -> Response | None:
        """The account checks Enom makes before any command, with its numbers."""
        account, command = state.account, p.get("command", "")
        if p.get("uid") != account["uid"]:
            return _xml(command, errors=["Invalid login ID"], number="304155",
                        response_string="Validation error; invalid ; loginid")
        if p.get("pw") != account["pw"]:
            return _xml(command, errors=["Invalid password"], number="304156",
                        response_string="Validation error; invalid ; password")
        if account["allowed_ips"] and caller not in account["allowed_ips"]:
            return _xml(command, errors=["User not permitted from this IP address"], number="713254",
                        response_string="Policy error; unauthorized; user(s)")
        if rule := state.injected_error(command):
            return _xml(command, errors=[rule.get("text") or "Error"], number=str(rule.get("number", "")))
        return None

    async def interface(request: Request) -> Response:
        p = {k.lower(): v for k, v in request.query_params.items()}
        command = p.get("command", "")
        with state.lock:
            refused = refusal(p, request.client.host if request.client else "")
        if refused is not None:
            return refused
        domain = f"{p.get('sld', '')}.{p.get('tld', '')}".lower()
        with state.lock:
            known = state.domains.get(domain)
            match command.lower():
                case "check":
                    code, text = ("211", "Domain not available") if known else ("210", "Domain available")
                    return _xml(command, f"<DomainName>{escape(domain)}</DomainName><RRPCode>{code}</RRPCode><RRPText>{text}</RRPText>")
                case "getdomainexp":
                    if not known:
                        return _xml(command, errors=["Domain name not found"])
                    return _xml(command, f"<ExpirationDate>{_us(known)}</ExpirationDate>")
                case "getdomaininfo":
                    if not known:
                        return _xml(command, errors=["Domain name not found"])
                    return _xml(command, f'<GetDomainInfo><domainname sld="{escape(p.get("sld", ""))}" tld="{escape(p.get("tld", ""))}">{escape(domain)}</domainname><status><expiration>{_us(known)}</expiration><registrar>eNom, Inc.</registrar><registrationstatus>Registered</registrationstatus><purchase-status>Paid</purchase-status></status></GetDomainInfo>')
                case "extend":
                    if not known:
                        return _xml(command, errors=["Domain name not found"])
                    try:
                        years = int(p.get("numyears", "1"))
                    except ValueError:
                        return _xml(command, errors=["Invalid NumYears"])
                    new_expiry = add_years(known, years)
                    if years < 1 or new_expiry > registry_limit(registry_today()):
                        return _xml(command, errors=["The registration period cannot exceed 10 years."])
                    now, last = registry_now(), state.renewed_at.get(domain)
                    if last is not None and now - last < RENEWAL_GUARD and p.get("overrideorder") != "1":
                        state.refused.append({"domain": domain, "years": years, "reason": "renewed within 24 hours"})
                        return _xml(command, errors=[DUPLICATE_RENEWAL])
                    balance, cost = state.account["balance"], PRICE_PER_YEAR * years
                    if balance is not None and balance < cost:
                        state.refused.append({"domain": domain, "years": years, "reason": "insufficient balance"})
                        return _xml(command, errors=["Insufficient funds in the reseller account"], number="524181",
                                    response_string="Payment error; insufficient reseller balance; account balance")
                    if balance is not None:
                        state.account["balance"] = balance - cost
                    state.renewed_at[domain] = now
                    state.domains[domain] = new_expiry
                    order_id = next(state.order_ids)
                    state.extensions.append({"domain": domain, "years": years, "order_id": order_id,
                                             "new_expiry": new_expiry.isoformat()})
                    return _xml(command, f"<Extension>successful</Extension><DomainName>{escape(domain)}</DomainName><OrderID>{order_id}</OrderID><RRPCode>200</RRPCode><RRPText>Command completed successfully</RRPText>")
                case _:
                    return _xml(command, errors=[f"Command {command} is not supported by this sandbox"])

    async def seed(request: Request) -> Response:
        rows = await request.json()
        with state.lock:
            for row in rows:
                state.domains[row["name"].lower()] = date.fromisoformat(row["expiry"])
        return JSONResponse({"domains": len(state.domains)})

    async def set_account(request: Request) -> Response:
        body = await request.json()
        with state.lock:
            for key in ("uid", "pw"):
                if key in body:
                    state.account[key] = body[key]
            if "allowed_ips" in body:
                state.account["allowed_ips"] = list(body["allowed_ips"] or [])
            if "balance" in body:
                state.account["balance"] = Decimal(str(body["balance"])) if body["balance"] is not None else None
        return JSONResponse({"account": {"uid": state.account["uid"], "allowed_ips": state.account["allowed_ips"]}})

    async def set_errors(request: Request) -> Response:
        body = await request.json()
        with state.lock:
            state.errors = [dict(r) for r in (body if isinstance(body, list) else [body])]
        return JSONResponse({"errors": len(state.errors)})

    async def set_clock(request: Request) -> Response:
        """`{"today": "YYYY-MM-DD"}` makes the registry count its 10-year limit from that day;
        `{"today": null}` returns to the real date."""
        body = await request.json()
        clock["today"] = date.fromisoformat(body["today"]) if body.get("today") else None
        return JSONResponse({"today": registry_today().isoformat()})

    return sandbox_app(plan, state, [
        Route("/interface.asp", interface, methods=["GET"]),
        Route("/__sandbox/domains", seed, methods=["POST"]),
        Route("/__sandbox/clock", set_clock, methods=["POST"]),
        Route("/__sandbox/account", set_account, methods=["POST"]),
        Route("/__sandbox/errors", set_errors, methods=["POST"]),
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8103)
    parser.add_argument("--uid", default="mailmkt")
    parser.add_argument("--pw", default="sandbox-enom-token")
    parser.add_argument("--day-seconds", type=float, default=0.0, help="demo: a day lasts this long")
    parser.add_argument("--epoch", default="", help="demo: ISO instant the shortened calendar began")
    args = parser.parse_args()
    today = date.today
    if args.day_seconds > 0 and args.epoch:   # follow the demo's calendar, as mailmarket does
        calendar = Calendar(args.day_seconds, datetime.fromisoformat(args.epoch))
        today = lambda: calendar.today(datetime.now(timezone.utc))  # noqa: E731
    serve(create_app(args.uid, args.pw, today=today), args.port)


if __name__ == "__main__":
    main()
