"""Sign-up, sign-in and sign-out, one rule each for the pages and the JSON API.

Neither tells a stranger whether an address has an account. Sign-up answers "check your email"
either way: a new address gets its account and an email with a link that confirms it and signs in;
an address with an account is left as it was and its owner gets an email saying someone tried.
Sign-in runs the same argon2 verification for an unknown address (against a dummy hash) as for a
known one, and failures are throttled per address tried and per network, counted in the database
so the limit holds across API processes and restarts.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from functools import cache

from fastapi import Request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client as TemporalClient

from api import auth
from api.auth import hash_password, verify_password
from api.temporal import Gateway
from core.addresses import normalize_destination
from core.errors import BusinessError
from core.refusals import Refusals, refuse
from core.ratelimit import window_wait
from settings import Settings
from store import clients, web_sessions
from store.models import Client
from workflows.contracts import SendNotification

LINK_LIFETIME = timedelta(hours=48)
CHECK_EMAIL = "Check your email: we sent a message to {email} to continue."


@cache
def dummy_hash() -> str:
    """What an unknown address's password is checked against: a hash made with the same parameters
    as real ones, so the answer takes as long as for an account (made once, on first use)."""
    return hash_password("not anybody's password, only here for the timing")


def normalize_email(raw: str) -> str:
    return normalize_destination(raw, "email").lower()


class Accounts:
    def __init__(self, settings: Settings, sessions: async_sessionmaker[AsyncSession], temporal: TemporalClient):
        self.settings, self.sessions = settings, sessions
        self.gateway = Gateway(temporal, sessions, settings.task_queue)
        self._links = URLSafeTimedSerializer(settings.session_secret.get_secret_value(), salt="mm-signup-link")
        self._window = timedelta(minutes=settings.sign_in_window_minutes)

    # sign-up -------------------------------------------------------------------------------------

    async def sign_up(self, email: str, password: str, name: str) -> str:
        """Returns the sentence to show, the same whether or not the address has an account."""
        if not name.strip():
            raise refuse(Refusals.NAME_EMPTY, "name")
        address = normalize_email(email)
        password_hash = hash_password(password)   # before the look-up: both answers cost one argon2 hash
        created: Client | None = None
        async with self.sessions() as session:
            existing = await clients.client_by_email(session, address)
        if existing is None:
            try:
                async with self.sessions.begin() as session:
                    created = await clients.create_client(session, email=address, password_hash=password_hash,
                                                          name=name.strip())
            except BusinessError:   # the same address signed up a moment ago, in another request
                async with self.sessions() as session:
                    existing = await clients.client_by_email(session, address)
        if created is not None:
            await self._mail(f"signup:{created.id}", "account_confirm", created,
                             {"link": self._link(created.id)})
        elif existing is not None:
            # at most one such note an hour: trying again and again does not flood the owner's inbox
            hour = datetime.now(timezone.utc).strftime("%Y%m%d%H")
            await self._mail(f"signup-attempt:{existing.id}:{hour}", "signup_attempt", existing, {})
        return CHECK_EMAIL.format(email=address)

    def _link(self, client_id: int) -> str:
        return f"{self.settings.public_base_url.rstrip('/')}/signup/confirm/{self._links.dumps(client_id)}"

    async def _mail(self, key: str, template: str, client: Client, context: dict[str, str]) -> None:
        base = self.settings.public_base_url.rstrip("/")
        note = SendNotification(key=key, template=template, to=client.email, client_id=client.id,
                                context={"name": client.name, "email": client.email, "login_url": f"{base}/login",
                                         **context})
        await self.gateway.start_account_email(note)

    async def pending_confirmation(self, token: str) -> Client:
        """The account a sign-up link stands for, while the link is genuine, fresh and unused."""
        try:
            client_id = self._links.loads(token[:200], max_age=int(LINK_LIFETIME.total_seconds()))
        except SignatureExpired:
            raise refuse(Refusals.LINK_EXPIRED) from None
        except BadSignature:
            raise refuse(Refusals.LINK_INVALID, message="This link is not valid.") from None
        async with self.sessions() as session:
            client = await clients.client_by_id(session, int(client_id))
        if client is None:
            raise refuse(Refusals.LINK_INVALID, message="This link is not valid.")
        if client.email_confirmed_at is not None:
            raise refuse(Refusals.LINK_USED)
        return client

    async def confirm(self, request: Request, token: str) -> Client:
        """Follow the sign-up link: the address is confirmed and this browser signed in (once)."""
        client = await self.pending_confirmation(token)
        async with self.sessions.begin() as session:
            confirmed = await clients.confirm_email(session, client.id, datetime.now(timezone.utc))
        if not confirmed:
            raise refuse(Refusals.LINK_USED)
        await auth.sign_in(request, client.id)
        return client

    # sign-in -------------------------------------------------------------------------------------

    async def sign_in(self, request: Request, email: str, password: str) -> Client:
        address = email.strip().lower()[:254]
        keys = {"account": f"email:{address}", "ip": f"ip:{request.app.state.limiter.client_ip(request)}"}
        now = datetime.now(timezone.utc)
        await self._refuse_if_throttled(keys, now)
        async with self.sessions() as session:
            client = await clients.client_by_email(session, address)
        # the same argon2 work whether or not the address has an account
        matches = verify_password(client.password_hash if client else dummy_hash(), password)
        if client is None or not matches:
            async with self.sessions.begin() as session:
                await web_sessions.record_failure(session, list(keys.values()), now=now, window=self._window)
            raise refuse(Refusals.LOGIN_FAILED, "email")
        async with self.sessions.begin() as session:
            await web_sessions.clear_failures(session, keys["account"])
        await auth.sign_in(request, client.id)
        return client

    async def _refuse_if_throttled(self, keys: dict[str, str], now: datetime) -> None:
        limits = {"account": (self.settings.sign_in_failures_per_account, "for this account"),
                  "ip": (self.settings.sign_in_failures_per_ip, "from your network")}
        async with self.sessions() as session:
            for which, key in keys.items():
                limit, whose = limits[which]
                failures = await web_sessions.recent_failures(session, key, now - self._window)
                wait = window_wait([t.timestamp() for t in failures], limit, self._window.total_seconds(),
                                   now.timestamp())
                if wait > 0:
                    minutes = max(1, math.ceil(wait / 60))
                    raise refuse(Refusals.TOO_MANY_ATTEMPTS, "email", whose=whose, minutes=minutes,
                                 plural="s" if minutes > 1 else "", retry_after=math.ceil(wait))

    # sign-out ------------------------------------------------------------------------------------

    async def sign_out(self, request: Request) -> None:
        await auth.sign_out(request)

    async def sign_out_everywhere(self, request: Request, client: Client) -> int:
        """Every session of the client ends, this one included."""
        ended = await self.revoke_all_sessions(client.id)
        await auth.sign_out(request)
        return ended

    async def revoke_all_sessions(self, client_id: int, except_token: str | None = None) -> int:
        """End the client's sessions but `except_token`'s (a password change keeps the browser that made it)."""
        async with self.sessions.begin() as session:
            return await web_sessions.revoke_all_sessions(session, client_id, except_token=except_token,
                                                          now=datetime.now(timezone.utc))


async def client_by_email(sessions: async_sessionmaker[AsyncSession], email: str) -> Client:
    """The client an operator names by email on a form (404 when there is none)."""
    if not email.strip():
        raise refuse(Refusals.CLIENT_EMAIL_MISSING, "client_email")
    async with sessions() as session:
        customer = await clients.client_by_email(session, normalize_email(email))
    if customer is None:
        raise refuse(Refusals.CLIENT_UNKNOWN, "client_email", message=f"There is no client {email[:254]!r}.")
    return customer
