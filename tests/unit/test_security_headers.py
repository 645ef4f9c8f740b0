"""Every response carries the security headers; pages run no inline script; HSTS only over HTTPS."""
from __future__ import annotations

import re
from pathlib import Path
from unittest.mock import MagicMock

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import script_hashes
from settings import Settings
from tests.support import ROOT

PATHS = ["/", "/login", "/signup", "/api/v1/auth/session", "/static/style.css", "/no-such-page", "/api/v1/nothing"]


@pytest.fixture(scope="module")
def db_url(tmp_path_factory) -> str:
    from store.migrate import upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('headers') / 'db.sqlite'}"
    upgrade(url)
    return url


def app_for(db_url: str, **overrides):
    return create_app(Settings(database_url=db_url, environment="development", **overrides), temporal=MagicMock())


def test_every_response_carries_the_headers_and_no_hsts_over_plain_http(db_url):
    with TestClient(app_for(db_url)) as http:
        for path in PATHS:
            r = http.get(path)
            assert r.headers["x-content-type-options"] == "nosniff", path
            assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin", path
            assert r.headers["x-frame-options"] == "DENY", path
            csp = r.headers["content-security-policy"]
            assert "frame-ancestors 'none'" in csp and "script-src 'self';" in csp, path
            assert "unsafe-inline" not in csp, path
            assert "strict-transport-security" not in r.headers, path


def test_hsts_with_secure_cookies(db_url):
    with TestClient(app_for(db_url, cookie_secure=True)) as http:
        for path in PATHS:
            assert http.get(path).headers["strict-transport-security"].startswith("max-age="), path


def test_the_api_docs_page_may_run_its_own_inline_script_and_nothing_else(db_url):
    with TestClient(app_for(db_url)) as http:
        for path in ("/docs", "/docs/oauth2-redirect"):
            r = http.get(path)
            assert r.status_code == 200
            hashes = script_hashes(r.text)
            assert hashes, path
            csp = r.headers["content-security-policy"]
            script_src = re.search(r"script-src ([^;]*)", csp).group(1)
            assert all(h in script_src for h in hashes) and "unsafe-inline" not in script_src, path
            assert "frame-ancestors 'none'" in csp


def test_page_templates_hold_no_inline_script_or_style():
    """The pages' policy allows scripts and styles from /static only: anything inline is blocked."""
    for template in sorted(Path(ROOT, "templates", "pages").glob("*.html")):
        html = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), template.name
        assert "<style" not in html and " style=" not in html, template.name
        assert not re.search(r"\son[a-z]+=", html), template.name
        assert "javascript:" not in html, template.name


def test_the_api_docs_load_swagger_ui_from_this_site_only(db_url):
    """No CDN: every script, stylesheet and icon the docs page names is served by the app itself."""
    with TestClient(app_for(db_url)) as http:
        page = http.get("/docs")
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert assets and all(a.startswith("/") for a in assets), assets
        for asset in assets:
            assert http.get(asset).status_code == 200, asset
        assert "http" not in page.headers["content-security-policy"]


def test_pages_name_an_icon_the_site_serves(db_url):
    """No page makes the browser log a missing /favicon.ico."""
    with TestClient(app_for(db_url)) as http:
        icon = re.search(r'<link rel="icon" href="([^"]+)"', http.get("/").text).group(1)
        assert http.get(icon).status_code == 200
        assert http.get("/favicon.ico").status_code == 200   # followed to the same icon
