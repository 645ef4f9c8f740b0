"""No input answers 5xx or drops the connection, on any route.

The JSON API: schemathesis generates valid and invalid requests from the OpenAPI for every operation,
as a visitor, a signed-in customer and an operator. The operator only reads: its writes would change
other tests' clients (any id is someone's) and the global reserved list. The pages, which are not in
the OpenAPI, are enumerated from the app's routes (a new page is covered without editing this file)
and sent the inputs that answered 500 before: ids beyond PostgreSQL's integer, negative ids, NUL and
other control characters, very long text, percent-encodings that are not UTF-8.

Both run against an API of their own (the real app on PostgreSQL, the dev server and the worker of
tests/integration/conftest.py) so that their many checks and guesses do not use up the rate limits
the other tests' API keeps. Bounded for the suite: FUZZ_EXAMPLES examples per operation and session
(default 10), derandomized, no deadline, no shrinking; `FUZZ_EXAMPLES=200 make test` goes deeper."""
from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx
import hypothesis
import pytest
import pytest_asyncio
import requests
import schemathesis
from fastapi.routing import APIRoute, iter_route_contexts
from hypothesis import HealthCheck, Phase
from pydantic import BaseModel
from schemathesis import GenerationMode
from starlette.routing import Mount

from api.app import create_app
from api.auth import COOKIE
from api.params import DB_ID_MAX
from providers.sandbox_kit import ServerThread
from settings import Settings
from tests.support import signed_in_http, signed_in_operator

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
_APP = create_app(Settings(environment="development"))   # only for its routes and OpenAPI; never started
SCHEMA = schemathesis.openapi.from_dict(_APP.openapi())
OPERATIONS = {op.label: op for op in (result.ok() for result in SCHEMA.get_all_operations())}
WHO = ("visitor", "customer", "operator")
FUZZ_NETWORK = "198.51.100.77"   # TEST-NET-2: only ever a header here


def _fuzzed(who: str, label: str) -> bool:
    method = label.split(" ", 1)[0]
    if who == "operator":
        return method == "GET"
    # sessions are server-side: a fuzzed sign-out would sign the customer out for the rest of the run
    return not (who == "customer" and label in ("POST /api/v1/auth/logout", "POST /api/v1/auth/logout-everywhere"))


@dataclass
class Who:
    """A session the fuzz sends every request in: its cookie and CSRF token, on one connection."""
    name: str
    cookie: str
    csrf: str
    base: str
    http: requests.Session = field(default_factory=requests.Session)
    last: str = ""

    def connections(self) -> int:
        return self.http.get_adapter(self.base).poolmanager.connection_from_url(self.base).num_connections

    def send(self, case) -> None:
        headers = {k: v for k, v in (case.headers or {}).items() if k.lower() not in ("x-csrf-token", "x-forwarded-for")}
        # from a network of the fuzz's own: its failed sign-ins must not lock 127.0.0.1 out for the
        # other tests, which share the database the failures are counted in
        case.headers = {**headers, "X-CSRF-Token": self.csrf, "X-Forwarded-For": FUZZ_NETWORK}
        before = self.connections()
        response = case.call(base_url=self.base, session=self.http, cookies={COOKIE: self.cookie}, timeout=30,
                             allow_redirects=False)
        self.http.cookies.clear()   # a fuzzed sign-in or sign-up must not change the session
        what = f"{case.method} {case.formatted_path} as {self.name}"
        assert response.status_code < 500, f"{what}: {response.status_code}\n{case.as_curl_command()}"
        assert not self.last or self.connections() == before, f"the server dropped the connection after {self.last}"
        if response.status_code == 400 and len(response.request.url) > 65_000:
            # a request line past the HTTP server's limit never reaches the app: uvicorn answers 400
            # and closes, as a proxy would answer 414
            self.last = ""
            return
        assert "close" not in " ".join(response.headers.get("connection", [])).lower(), f"{what}: Connection: close"
        self.last = what


@pytest_asyncio.fixture(scope="module")
async def fuzz_api(live, pg_settings):
    settings = pg_settings.model_copy(update={"checks_per_minute_per_ip": 10**6,
                                              "checks_per_minute_per_client": 10**6, "trust_forwarded_for": True})
    server = ServerThread(create_app(settings))
    server.server.config.timeout_keep_alive = 300   # a dropped connection is then the server's doing
    yield server.start().url
    server.stop()


@pytest_asyncio.fixture(scope="module")
async def sessions_for_fuzz(fuzz_api, pg_sessions) -> dict[str, tuple[str, str]]:
    """(session cookie, CSRF token) for a visitor, a signed-in customer and an operator."""
    visitor = httpx.AsyncClient(base_url=fuzz_api)
    visitor_csrf = (await visitor.get("/api/v1/auth/session")).json()["csrf_token"]
    customer, ch = await signed_in_http(fuzz_api)
    operator, oh = await signed_in_operator(fuzz_api, pg_sessions)
    found = {"visitor": (visitor.cookies[COOKIE], visitor_csrf), "customer": (customer.cookies[COOKIE], ch["X-CSRF-Token"]),
             "operator": (operator.cookies[COOKIE], oh["X-CSRF-Token"])}
    for http in (visitor, customer, operator):
        await http.aclose()
    return found


def _fuzz(who: Who, label: str) -> None:
    operation = OPERATIONS[label]
    strategy = (operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
                | operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))

    @hypothesis.settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                         phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
                         print_blob=False)
    @hypothesis.given(case=strategy)
    def run(case) -> None:
        who.send(case)

    run()


@pytest.mark.parametrize("who,label", [(who, label) for who in WHO for label in OPERATIONS if _fuzzed(who, label)])
async def test_no_api_operation_answers_5xx(fuzz_api, sessions_for_fuzz, who, label):
    cookie, csrf = sessions_for_fuzz[who]
    # in a thread: the worker shares this event loop, and routes that start or ask workflows need it
    await asyncio.to_thread(_fuzz, Who(who, cookie, csrf, fuzz_api), label)


# ---- pages: every route outside the OpenAPI, with the inputs that broke before ------------------

NASTY = ["2147483648", "9223372036854775808", "-1", "\x00", "a\x00b@example.org", "x" * 5000, "9" * 5000,
         "\u00b2",   # a digit to str.isdigit(), not to int()
         "%FF%FE"]   # sent as it is: bytes that are not UTF-8
# fields the handlers that read the whole form (checkout, invoices, promo codes, renewals) look for
RAW_FORM_FIELDS = ["kind_0", "years_0", "destination_0", "password_0", "promo_code", "client_email", "description_0",
                   "unit_price_0", "quantity_0", "discount_0", "due_on", "action", "code", "percent", "amount",
                   "starts_on", "ends_on", "max_uses", "max_uses_per_client", "kinds", "domains", "enabled",
                   "action:x@example.org", "years:x@example.org", "kind:x@example.org"]


def _encode(value: str) -> str:
    return value if value == "%FF%FE" else quote(value, safe="")


def _form_fields(body_params) -> list[str]:
    """The fields a page's form is read from: a form model's own fields, or the Form parameter."""
    names = []
    for param in body_params:
        model = param.field_info.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            names += [info.alias or name for name, info in model.model_fields.items()]
        else:
            names.append(param.alias)
    return names


def _page_routes() -> list[tuple[str, str, list[str], list[str], list[str]]]:
    """(method, path, path params, query params, form fields) of every route not in the OpenAPI."""
    found = []
    for context in iter_route_contexts(_APP.routes):
        route = context.original_route
        if isinstance(route, Mount):
            found.append(("GET", f"{context.path}/{{path}}", ["path"], [], []))
        elif isinstance(route, APIRoute):
            if context.include_in_schema:
                continue
            d = route.dependant
            for method in sorted(context.methods - {"HEAD"}):
                found.append((method, context.path, [p.alias for p in d.path_params],
                              [p.alias for p in d.query_params], _form_fields(d.body_params)))
        else:   # Starlette routes: the OpenAPI document and its viewers
            for method in sorted((context.methods or {"GET"}) - {"HEAD"}):
                found.append((method, context.path, list(route.param_convertors), [], []))
    return found


PAGE_ROUTES = _page_routes()


def _path(template: str, params: list[str], value: str | None) -> str:
    path = template
    for name in params:
        # a valid id that no row has: nothing of another test's is touched
        fill = _encode(value) if value is not None else (str(DB_ID_MAX) if name.endswith("_id") else "x%40example.org")
        path = path.replace("{" + name + "}", fill).replace("{" + name + ":path}", fill)
    return path


# the operator's session adds nothing on a page every client may use (it is a client's session there)
# and a signed-in session is never signed out by the fuzz (sessions are server-side)
PAGE_CASES = [(who, route) for route in PAGE_ROUTES for who in WHO
              if (who != "operator" or route[1].startswith("/operator/"))
              and not (who != "visitor" and route[1].startswith("/logout"))]


@pytest.mark.parametrize("who,route", PAGE_CASES, ids=[f"{who}-{r[0]} {r[1]}" for who, r in PAGE_CASES])
async def test_no_page_answers_5xx(fuzz_api, sessions_for_fuzz, who, route):
    method, template, path_params, query, form = route
    cookie, csrf = sessions_for_fuzz[who]
    fields = list(dict.fromkeys([f for f in form if f != "csrf"] + (RAW_FORM_FIELDS if method == "POST" else [])))
    async with httpx.AsyncClient(base_url=fuzz_api, timeout=30, limits=httpx.Limits(max_connections=1)) as http:
        seen = None
        for value in NASTY:
            variants = []
            if path_params:
                variants.append((_path(template, path_params, value), "", ""))
            if query:
                variants.append((_path(template, path_params, None),
                                 "&".join(f"{quote(q)}={_encode(value)}" for q in query), ""))
            if method == "POST":
                variants.append((_path(template, path_params, None), "",
                                 "&".join([f"csrf={quote(csrf)}"] + [f"{quote(f)}={_encode(value)}" for f in fields])))
            if not variants:
                variants.append((_path(template, path_params, None), "", ""))
            for path, query_string, body in variants:
                url = f"{path}?{query_string}" if query_string else path
                response = await http.request(
                    method, httpx.URL(fuzz_api + url), content=body.encode() if method == "POST" else None,
                    headers={"Cookie": f"{COOKIE}={cookie}", "X-Forwarded-For": FUZZ_NETWORK,
                             **({"Content-Type": "application/x-www-form-urlencoded"} if method == "POST" else {})})
                http.cookies.clear()
                what = f"{method} {url[:200]} as {who}"
                assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"
                stream = response.extensions["network_stream"].get_extra_info("client_addr")
                assert seen in (None, stream), f"the server dropped the connection before {what}"
                assert response.headers.get("connection", "").lower() != "close", f"{what}: Connection: close"
                seen = stream
