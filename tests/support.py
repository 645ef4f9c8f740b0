"""Shared test helpers: sandboxes in threads, databases, settings, and data each test makes itself."""
from __future__ import annotations

import asyncio
import json
import secrets
import sys
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import httpx
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from providers.cpanel.sandbox import create_app as cpanel_app
from providers.enom.sandbox import create_app as enom_app
from providers.mail.sink import MailSink
from providers.paypal.sandbox import create_app as paypal_app
from providers.sandbox_kit import ServerThread
from settings import Settings
from store.models import Category, Client, Domain

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TEST_SERVER = BIN / "temporal-test-server"
DEV_SERVER = BIN / "temporal"
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@dataclass
class Sandboxes:
    cpanel: ServerThread
    enom: ServerThread
    paypal: ServerThread
    mail: MailSink

    def stop(self) -> None:
        for server in (self.cpanel, self.enom, self.paypal):
            server.stop()
        self.mail.stop()


def start_sandboxes(webhook_url: str = "") -> Sandboxes:
    return Sandboxes(
        cpanel=ServerThread(cpanel_app()).start(),
        enom=ServerThread(enom_app()).start(),
        paypal=ServerThread(paypal_app(webhook_url=webhook_url)).start(),
        mail=MailSink().start(),
    )


def settings_for(sandboxes: Sandboxes, database_url: str, **overrides) -> Settings:
    overrides.setdefault("portfolio_cache_seconds", 0.0)  # tests make domains as they go
    overrides.setdefault("payee_name", "Test Payee Ltd")
    overrides.setdefault("payee_postal_address", "PO Box 1, Testville")
    overrides.setdefault("bank_details", "IBAN TEST 0001")
    # production mode, as deployed: keys of the test's own (the built-in ones are refused there)
    overrides.setdefault("session_secret", secrets.token_urlsafe(48))
    overrides.setdefault("secrets_key", secrets.token_urlsafe(48))
    return Settings(
        database_url=database_url,
        task_queue=f"tq-{secrets.token_hex(4)}",
        cpanel_url=sandboxes.cpanel.url,
        enom_url=sandboxes.enom.url + "/interface.asp",
        paypal_url=sandboxes.paypal.url,
        smtp_port=sandboxes.mail.smtp_port,
        sandbox_mail_viewer_url=sandboxes.mail.viewer.url,
        **overrides,
    )


def unique(prefix: str = "t") -> str:
    return f"{prefix}{secrets.token_hex(4)}"


async def make_client(sessions: async_sessionmaker[AsyncSession], password: str = "correct horse 1") -> Client:
    async with sessions.begin() as session:
        client = Client(email=f"{unique('client')}@example.net", password_hash=PasswordHasher().hash(password),
                        name="Test Client")
        session.add(client)
    return client


async def make_domain(sessions: async_sessionmaker[AsyncSession], sandboxes: Sandboxes, *,
                      expiry: date | None = None, listed: bool = True) -> Domain:
    """A listed domain in a fresh category, registered at the Enom sandbox."""
    name = f"{unique('vanity')}.org"
    expiry = expiry or date(date.today().year + 1, 6, 1)
    async with sessions.begin() as session:
        top = Category(name=unique("Cat"), slug=unique("cat"))
        session.add(top)
        await session.flush()
        domain = Domain(name=name, category_id=top.id, listed=listed, registrar_expiry=expiry)
        session.add(domain)
    async with httpx.AsyncClient() as http:
        (await http.post(f"{sandboxes.enom.url}/__sandbox/domains",
                         json=[{"name": name, "expiry": expiry.isoformat()}])).raise_for_status()
    return domain


async def sandbox_state(server: ServerThread) -> dict:
    async with httpx.AsyncClient() as http:
        return (await http.get(f"{server.url}/__sandbox/state")).json()


async def approve_at_paypal(sandboxes: Sandboxes, approve_url: str) -> str:
    """Do what the buyer does on PayPal's page: press Approve. Returns the return URL it sends us to."""
    token = httpx.URL(approve_url).params["token"]
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{sandboxes.paypal.url}/checkoutnow/decide",
                                   data={"token": token, "decision": "approve"})
    assert response.status_code == 303, response.text
    return response.headers["location"]


async def set_faults(server: ServerThread, rules: list[dict]) -> None:
    """Switch faults on in a sandbox (rules as providers.sandbox_kit describes them)."""
    async with httpx.AsyncClient() as admin:
        await admin.post(f"{server.url}/__sandbox/faults", json=rules)


def uapi_refused(error: str) -> str:
    """The body of a UAPI answer that says no (HTTP 200, `status: 0`), for a fault rule's `body`."""
    return json.dumps({"status": 0, "errors": [error], "messages": None, "warnings": None, "metadata": {},
                       "data": None})


@asynccontextmanager
async def faults(server: ServerThread, rules: list[dict]):
    """The sandbox's faults on for the block, cleared however the block ends."""
    await set_faults(server, rules)
    try:
        yield
    finally:
        async with httpx.AsyncClient() as admin:
            await admin.delete(f"{server.url}/__sandbox/faults")


def mails_to(sandboxes: Sandboxes, recipient: str) -> list[dict]:
    with sandboxes.mail.store.lock:
        return [m for m in sandboxes.mail.store.messages if recipient in m["to"]]


async def mail_arrives(sandboxes: Sandboxes, recipient: str, subject: str, why: str, *, tries: int = 50,
                       pause: float = 0.2) -> None:
    """Wait for a mail to `recipient` with exactly this subject; fail with `why` if none comes."""
    for _ in range(tries):
        if any(m["subject"] == subject for m in mails_to(sandboxes, recipient)):
            return
        await asyncio.sleep(pause)
    raise AssertionError(why)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


async def sign_up_and_in(http: httpx.AsyncClient, email: str, password: str = "a long passphrase",
                         name: str = "Buyer") -> dict:
    """Sign up over the JSON API (which signs nobody in: the answer is "check your email"), then
    sign in with the password. Returns the CSRF header for writes."""
    csrf = (await http.get("/api/v1/auth/session")).json()["csrf_token"]
    r = await http.post("/api/v1/auth/signup", headers={"X-CSRF-Token": csrf},
                        json={"email": email, "password": password, "name": name})
    assert r.status_code == 202, r.text
    r = await http.post("/api/v1/auth/login", headers={"X-CSRF-Token": csrf},
                        json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    return {"X-CSRF-Token": r.json()["csrf_token"]}


async def signed_in_http(base: str, email: str | None = None) -> tuple[httpx.AsyncClient, dict]:
    """A new customer signed up and in over the JSON API: the client and the CSRF header for writes."""
    http = httpx.AsyncClient(base_url=base, timeout=30)
    headers = await sign_up_and_in(http, email or f"{unique('buyer')}@example.net")
    return http, headers


async def signed_in_operator(base: str, sessions: async_sessionmaker[AsyncSession]) -> tuple[httpx.AsyncClient, dict]:
    """A new client made an operator (as `make operator` does)."""
    from sqlalchemy import update

    http, headers = await signed_in_http(base)
    me = (await http.get("/api/v1/auth/session")).json()["client"]["id"]
    async with sessions.begin() as session:
        await session.execute(update(Client).where(Client.id == me).values(is_operator=True))
    return http, headers


async def buyer_and_operator(base: str, sessions: async_sessionmaker[AsyncSession]
                             ) -> tuple[httpx.AsyncClient, dict, httpx.AsyncClient, dict]:
    """A customer and an operator, each signed in, each with their CSRF headers."""
    buyer, bh = await signed_in_http(base)
    operator, oh = await signed_in_operator(base, sessions)
    return buyer, bh, operator, oh


async def order_and_approve(http: httpx.AsyncClient, headers: dict, sandboxes: Sandboxes,
                            line: dict) -> tuple[dict, str]:
    """Place a one-line order over the API, start PayPal, and approve it at the sandbox as the buyer
    does (then closes the tab). Returns the order and the PayPal order id."""
    r = await http.post("/api/v1/orders", headers=headers, json={"lines": [line]})
    assert r.status_code == 201, r.text
    order = r.json()
    pay = (await http.post(f"/api/v1/orders/{order['id']}/paypal", headers=headers)).json()
    async with httpx.AsyncClient() as buyer:
        await buyer.post(f"{sandboxes.paypal.url}/checkoutnow/decide",
                         data={"token": pay["paypal_order_id"], "decision": "approve"})
    return order, pay["paypal_order_id"]


async def refund_answered(http: httpx.AsyncClient, response: httpx.Response, tries: int = 150) -> dict:
    """A refund request is answered at once (202, `requested`); this follows the refund on the
    invoice's refund list until PayPal has answered it (pending, completed or failed)."""
    assert response.status_code == 202, response.text
    asked = response.json()
    for _ in range(tries):
        listed = (await http.get(f"/api/v1/operator/invoices/{asked['invoice']}/refunds")).json()["refunds"]
        refund = next(r for r in listed if r["id"] == asked["id"])
        if refund["status"] != "requested":
            return {"invoice": asked["invoice"], **refund}
        await asyncio.sleep(0.2)
    raise AssertionError(f"refund {asked['id']} on {asked['invoice']} was never answered")
