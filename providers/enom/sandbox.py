"""An Enom reseller API sandbox: `interface.asp` with XML `interface-response` documents.

Domains are registered to the sandbox with `POST /__sandbox/domains [{"name": ..., "expiry": "YYYY-MM-DD"}]`;
`POST /__sandbox/clock {"today": "YYYY-MM-DD"}` moves the day its 10-year limit counts from.
Run alone: `python -m providers.enom.sandbox --port 8103`.
"""
from __future__ import annotations

import argparse
import itertools
import threading
from datetime import date, datetime, timezone
from xml.sax.saxutils import escape

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.clock import Calendar
from core.terms import add_years, registry_limit
from providers.sandbox_kit import FaultPlan, ServerThread, admin_routes, fault_middleware


def _xml(command: str, body: str = "", errors: list[str] | None = None) -> Response:
    errors = errors or []
    err_xml = ""
    if errors:
        err_xml = "<errors>" + "".join(f"<Err{i}>{escape(e)}</Err{i}>" for i, e in enumerate(errors, 1)) + "</errors>"
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
        self.order_ids = itertools.count(157600000)

    def snapshot(self) -> dict:
        with self.lock:
            return {"domains": {d: e.isoformat() for d, e in sorted(self.domains.items())},
                    "extensions": list(self.extensions)}

    def reset(self) -> None:
        with self.lock:
            self.domains.clear()
            self.extensions.clear()


def create_app(uid: str = "mailmkt", pw: str = "sandbox-enom-token", today=date.today) -> Starlette:
    state = EnomState()
    plan = FaultPlan()
    clock: dict[str, date | None] = {"today": None}   # a test that skips years moves the registry's day too

    def registry_today() -> date:
        return clock["today"] or today()

    async def interface(request: Request) -> Response:
        p = {k.lower(): v for k, v in request.query_params.items()}
        command = p.get("command", "")
        if p.get("uid") != uid or p.get("pw") != pw:
            return _xml(command, errors=["Policy error; unauthorized"])
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

    async def set_clock(request: Request) -> Response:
        """`{"today": "YYYY-MM-DD"}` makes the registry count its 10-year limit from that day;
        `{"today": null}` returns to the real date."""
        body = await request.json()
        clock["today"] = date.fromisoformat(body["today"]) if body.get("today") else None
        return JSONResponse({"today": registry_today().isoformat()})

    app = Starlette(routes=[
        Route("/interface.asp", interface, methods=["GET"]),
        Route("/__sandbox/domains", seed, methods=["POST"]),
        Route("/__sandbox/clock", set_clock, methods=["POST"]),
        *admin_routes(plan, state.snapshot, state.reset),
    ])
    app.add_middleware(fault_middleware(plan))
    app.state.sandbox = state
    return app


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
    ServerThread(create_app(args.uid, args.pw, today=today), port=args.port).start().thread.join()


if __name__ == "__main__":
    main()
