"""Accounts as a stranger and as their owner see them: sign-out ends the session for good, sign out
everywhere ends every browser's, sessions end on their own, guessing passwords is throttled, and
neither sign-in nor sign-up tells whether an address has an account."""
from __future__ import annotations

import asyncio
import re
import secrets
from datetime import timedelta

import httpx
import pytest
import pytest_asyncio
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select, update

from api.auth import COOKIE
from api.services import accounts as accounts_service
from api.services.accounts import dummy_hash
from providers.sandbox_kit import ServerThread, free_port
from store import web_sessions
from store.models import Client, SignInFailure, WebSession
from tests.support import mails_to, unique, utcnow

PASSWORD = "a long passphrase"


@pytest_asyncio.fixture(scope="module")
async def site(live, pg_settings):
    """An API on the same database and worker that trusts X-Forwarded-For, so each test signs in
    from a network of its own, with a per-network limit small enough to reach."""
    from api.app import create_app

    port = free_port()
    settings = pg_settings.model_copy(update={"public_base_url": f"http://127.0.0.1:{port}",
                                              "trust_forwarded_for": True, "sign_in_failures_per_ip": 8})
    api = ServerThread(create_app(settings), port=port).start()
    yield settings
    api.stop()


def network() -> str:
    return f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"


def browser(site, ip: str | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=site.public_base_url, timeout=30, headers={"X-Forwarded-For": ip or network()})


async def csrf(http: httpx.AsyncClient) -> dict:
    return {"X-CSRF-Token": (await http.get("/api/v1/auth/session")).json()["csrf_token"]}


async def sign_up(http, email: str, password: str = PASSWORD, name: str = "Buyer") -> httpx.Response:
    return await http.post("/api/v1/auth/signup", headers=await csrf(http),
                           json={"email": email, "password": password, "name": name})


async def log_in(http, email: str, password: str = PASSWORD) -> httpx.Response:
    return await http.post("/api/v1/auth/login", headers=await csrf(http), json={"email": email, "password": password})


async def signed_in(http) -> bool:
    return (await http.get("/api/v1/auth/session")).json()["signed_in"]


async def account(site, ip: str | None = None) -> tuple[str, httpx.AsyncClient]:
    email = f"{unique('acct')}@example.net"
    http = browser(site, ip)
    assert (await sign_up(http, email)).status_code == 202
    assert (await log_in(http, email)).status_code == 200
    return email, http


async def mail_to(sandboxes, recipient: str, subject_part: str) -> dict:
    for _ in range(150):
        found = [m for m in mails_to(sandboxes, recipient) if subject_part in m["subject"]]
        if found:
            return found[-1]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no mail '{subject_part}' to {recipient}")


# sessions ------------------------------------------------------------------------------------------

async def test_a_cookie_saved_before_sign_out_signs_nobody_in_after_it(site):
    email, http = await account(site)
    saved = http.cookies[COOKIE]
    assert (await http.post("/api/v1/auth/logout", headers=await csrf(http))).json()["signed_in"] is False
    async with browser(site) as thief:
        thief.cookies.set(COOKIE, saved)
        assert await signed_in(thief) is False
        assert (await thief.get("/api/v1/addresses")).status_code == 401
        page = await thief.get("/addresses")
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
    await http.aclose()


async def test_the_sign_out_button_ends_the_session_for_a_saved_cookie_too(site):
    email, http = await account(site)
    saved = http.cookies[COOKIE]
    form_csrf = re.search(r'name="csrf" value="([^"]+)"', (await http.get("/")).text).group(1)
    assert (await http.post("/logout", data={"csrf": form_csrf})).status_code == 303
    async with browser(site) as thief:
        thief.cookies.set(COOKIE, saved)
        assert "Sign out (" not in (await thief.get("/")).text
    await http.aclose()


async def test_signing_in_again_ends_the_session_the_browser_had(site):
    email, http = await account(site)
    before = http.cookies[COOKIE]
    assert (await log_in(http, email)).status_code == 200 and await signed_in(http)
    async with browser(site) as copy:
        copy.cookies.set(COOKIE, before)
        assert await signed_in(copy) is False
    await http.aclose()


async def test_sign_out_everywhere_ends_the_other_browsers_sessions(site):
    email, laptop = await account(site)
    async with browser(site) as phone:
        assert (await log_in(phone, email)).status_code == 200
        assert await signed_in(phone)
        page = (await laptop.get("/")).text
        assert 'action="/logout/everywhere"' in page and "Sign out everywhere" in page
        form_csrf = re.search(r'action="/logout/everywhere"[^>]*><input type="hidden" name="csrf" value="([^"]+)"',
                              page).group(1)
        done = await laptop.post("/logout/everywhere", data={"csrf": form_csrf})
        assert done.status_code == 303 and done.headers["location"] == "/login"
        assert await signed_in(phone) is False
        assert await signed_in(laptop) is False
        # signing in again works as before
        assert (await log_in(phone, email)).status_code == 200 and await signed_in(phone)
    await laptop.aclose()


async def test_sign_out_everywhere_over_the_api(site):
    email, first = await account(site)
    async with browser(site) as second:
        assert (await log_in(second, email)).status_code == 200
        r = await second.post("/api/v1/auth/logout-everywhere", headers=await csrf(second))
        assert r.status_code == 200 and r.json()["sessions_ended"] == 2
        assert not await signed_in(first) and not await signed_in(second)
    await first.aclose()


async def test_revoking_all_sessions_but_one_keeps_that_one(site, pg_sessions):
    """What a password change will use: the browser that made the change stays signed in."""
    email, keep = await account(site)
    async with browser(site) as other:
        assert (await log_in(other, email)).status_code == 200
        token = URLSafeTimedSerializer(site.session_secret.get_secret_value(), salt="mm-session").loads(
            keep.cookies[COOKIE])["sid"]
        async with pg_sessions.begin() as session:
            client_id = (await session.execute(select(Client.id).where(Client.email == email))).scalar_one()
            assert await web_sessions.revoke_all_sessions(session, client_id, except_token=token) == 1
        assert await signed_in(keep) and not await signed_in(other)
    await keep.aclose()


async def test_a_session_ends_after_its_lifetime_or_unused_for_long(site, pg_sessions):
    email, old = await account(site)
    async with browser(site) as idle:
        assert (await log_in(idle, email)).status_code == 200
        tokens = {name: URLSafeTimedSerializer(site.session_secret.get_secret_value(), salt="mm-session").loads(
            http.cookies[COOKIE])["sid"] for name, http in (("old", old), ("idle", idle))}
        async with pg_sessions.begin() as session:
            # signed in 31 days ago, used a minute ago: past the absolute lifetime
            await session.execute(update(WebSession).where(WebSession.id == web_sessions.session_id(tokens["old"]))
                                  .values(created_at=utcnow() - timedelta(days=31),
                                          expires_at=utcnow() - timedelta(days=1),
                                          last_seen_at=utcnow() - timedelta(minutes=1)))
            # not used for 15 days
            await session.execute(update(WebSession).where(WebSession.id == web_sessions.session_id(tokens["idle"]))
                                  .values(last_seen_at=utcnow() - timedelta(days=15)))
        assert await signed_in(old) is False
        assert await signed_in(idle) is False
        async with pg_sessions() as session:
            row = await session.get(WebSession, web_sessions.session_id(tokens["idle"]))
        assert row.expires_at - row.created_at == timedelta(days=30)
    await old.aclose()


# throttling ----------------------------------------------------------------------------------------

async def test_six_wrong_passwords_lock_the_account_even_for_the_right_one(site, pg_sessions):
    email, http = await account(site)
    await http.post("/api/v1/auth/logout", headers=await csrf(http))
    answers = [await log_in(http, email, "wrong password!") for _ in range(5)]
    assert [r.status_code for r in answers] == [401] * 5
    locked = await log_in(http, email, "wrong password!")
    assert locked.status_code == 429 and locked.json()["code"] == "too_many_attempts"
    assert locked.json()["message"] == "Too many sign-in attempts for this account; try again in 15 minutes."
    assert int(locked.headers["Retry-After"]) > 800
    # the right password is refused too, from any network, until the window has passed
    assert (await log_in(http, email)).status_code == 429
    async with browser(site) as elsewhere:
        assert (await log_in(elsewhere, email)).json()["code"] == "too_many_attempts"
        page = await elsewhere.get("/login")
        form_csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        shown = await elsewhere.post("/login", data={"csrf": form_csrf, "email": email, "password": PASSWORD})
        assert shown.status_code == 429 and "Too many sign-in attempts for this account" in shown.text
    async with pg_sessions.begin() as session:   # a quarter of an hour later
        await session.execute(update(SignInFailure).where(SignInFailure.key == f"email:{email}")
                              .values(at=utcnow() - timedelta(minutes=16)))
    assert (await log_in(http, email)).status_code == 200
    await http.aclose()


async def test_an_unknown_address_is_throttled_like_a_known_one(site):
    """Otherwise the lock itself would tell which addresses have accounts."""
    async with browser(site) as http:
        nobody = f"{unique('nobody')}@example.net"
        codes = [(await log_in(http, nobody, "wrong password!")).status_code for _ in range(6)]
        assert codes == [401] * 5 + [429]


async def test_many_failures_from_one_network_are_refused_for_any_address(site):
    ip = network()
    async with browser(site, ip) as http:
        for _ in range(8):   # the test site allows 8 failures a network in the window
            assert (await log_in(http, f"{unique('guess')}@example.net", "wrong password!")).status_code == 401
        refused = await log_in(http, f"{unique('guess')}@example.net", "wrong password!")
        assert refused.status_code == 429 and refused.json()["code"] == "too_many_attempts"
        assert refused.json()["message"].startswith("Too many sign-in attempts from your network; try again in")
    email, other = await account(site)   # another network is not affected
    assert await signed_in(other)
    await other.aclose()


async def test_an_unknown_address_is_checked_against_a_dummy_hash(site, monkeypatch):
    """The argon2 verification runs for an unknown address too (against a dummy hash of the same
    parameters), so the answer takes as long as for an account with a wrong password."""
    checked: list[str] = []
    real = accounts_service.verify_password

    def recording(password_hash: str, password: str) -> bool:
        checked.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(accounts_service, "verify_password", recording)
    email, http = await account(site)
    checked.clear()
    async with browser(site) as stranger:
        assert (await log_in(stranger, f"{unique('nobody')}@example.net", PASSWORD)).status_code == 401
        assert (await log_in(stranger, email, "wrong password!")).status_code == 401
    assert checked[0] == dummy_hash() and checked[1] != dummy_hash() and checked[1].startswith("$argon2")
    await http.aclose()


# sign-up -------------------------------------------------------------------------------------------

async def test_sign_up_answers_the_same_for_a_known_address_and_tells_its_owner(site, sandboxes, pg_sessions):
    email = f"{unique('owner')}@example.net"
    async with browser(site) as owner, browser(site) as stranger:
        first = await sign_up(owner, email, name="Owner")
        again = await sign_up(stranger, email, password="the stranger's password", name="Stranger")
        assert first.status_code == again.status_code == 202
        strip = lambda body: {k: v for k, v in body.items() if k != "csrf_token"}   # noqa: E731
        assert strip(first.json()) == strip(again.json()) == {
            "status": "check_email", "message": f"Check your email: we sent a message to {email} to continue."}
        assert not await signed_in(owner) and not await signed_in(stranger)
        # nothing changed for the account: the owner's password works, the stranger's does not
        assert (await log_in(stranger, email, "the stranger's password")).status_code == 401
        async with pg_sessions() as session:
            assert (await session.execute(select(Client.name).where(Client.email == email))).scalar_one() == "Owner"

        welcome = await mail_to(sandboxes, email, "Confirm your email")
        tried = await mail_to(sandboxes, email, "Someone tried to sign up")
        assert "nothing was changed" in tried["text"] and f"{site.public_base_url}/login" in tried["text"]
        assert (await sign_up(stranger, email, password="the stranger's password", name="Stranger")).status_code == 202
        await asyncio.sleep(0.5)
        assert len([m for m in mails_to(sandboxes, email) if "Someone tried" in m["subject"]]) == 1   # one an hour

        # the link in the welcome email confirms the address and signs in, once
        link = re.search(r"https?://\S+/signup/confirm/\S+", welcome["text"]).group(0)
        path = link.split(site.public_base_url, 1)[1]
        page = await owner.get(path)
        assert page.status_code == 200 and email in page.text
        form_csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        assert (await owner.post(path, data={"csrf": form_csrf})).status_code == 303
        assert await signed_in(owner)
        async with pg_sessions() as session:
            confirmed = (await session.execute(select(Client.email_confirmed_at).where(Client.email == email))).scalar_one()
        assert confirmed is not None
        used = await stranger.get(path)
        assert used.status_code == 410 and "used already" in used.text


async def test_the_sign_up_page_answers_the_same_for_a_known_address(site):
    email = f"{unique('page')}@example.net"
    pages = []
    for name in ("First", "Second"):
        async with browser(site) as http:
            form_csrf = re.search(r'name="csrf" value="([^"]+)"', (await http.get("/signup")).text).group(1)
            r = await http.post("/signup", data={"csrf": form_csrf, "email": email, "name": name, "password": PASSWORD})
            pages.append((r.status_code, re.search(r'<main>(.*)</main>', r.text, re.S).group(1)))
            assert not await signed_in(http)
    assert pages[0] == pages[1] and pages[0][0] == 202 and "Check your email" in pages[0][1]


async def test_a_forged_or_stale_sign_up_link_signs_nobody_in(site):
    async with browser(site) as http:
        assert (await http.get("/signup/confirm/not-a-real-token")).status_code == 404
        assert not await signed_in(http)


@pytest.mark.parametrize("bad", [{"email": "not an email"}, {"password": "short"}, {"name": " "}])
async def test_sign_up_still_says_what_to_fix(site, bad):
    async with browser(site) as http:
        body = {"email": f"{unique('fix')}@example.net", "password": PASSWORD, "name": "Fixer", **bad}
        r = await http.post("/api/v1/auth/signup", headers=await csrf(http), json=body)
        assert r.status_code in (400, 422) and r.json()["code"] != "check_email"
