"""Production refuses the published development keys; `make run` pins every port it opens."""
from __future__ import annotations

import re
import secrets
import subprocess
from unittest.mock import MagicMock

import pytest
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer
from pydantic import ValidationError

from settings import Settings
from tests.support import DEV_SERVER

DEFAULT_SESSION_SECRET = Settings.model_fields["session_secret"].default.get_secret_value()
DEFAULT_SECRETS_KEY = Settings.model_fields["secrets_key"].default.get_secret_value()


def strong() -> str:
    return secrets.token_urlsafe(48)


def test_production_refuses_the_default_session_secret():
    with pytest.raises(ValidationError, match="SESSION_SECRET"):
        Settings(environment="production", secrets_key=strong())


def test_production_refuses_the_default_secrets_key():
    with pytest.raises(ValidationError, match="SECRETS_KEY"):
        Settings(environment="production", session_secret=strong())


def test_production_refuses_a_short_secret():
    with pytest.raises(ValidationError, match="32 bytes"):
        Settings(environment="production", session_secret="x" * 31, secrets_key=strong())


def test_the_default_is_production_and_development_mode_allows_the_built_in_keys(monkeypatch):
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    with pytest.raises(ValidationError):
        Settings(_env_file=None)
    assert Settings(environment="development").session_secret.get_secret_value() == DEFAULT_SESSION_SECRET
    good = Settings(environment="production", session_secret=strong(), secrets_key=strong())
    assert good.environment == "production"


def test_a_cookie_signed_with_the_published_key_signs_nobody_in(tmp_path):
    """What the published key used to give: a forged cookie naming the first account (an operator)."""
    from api.app import create_app
    from api.auth import COOKIE
    from store.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade(url)
    app = create_app(Settings(database_url=url, session_secret=strong(), secrets_key=strong()), temporal=MagicMock())
    forged = URLSafeTimedSerializer(DEFAULT_SESSION_SECRET, salt="mm-session").dumps({"cid": 1, "csrf": "x"})
    with TestClient(app, cookies={COOKIE: forged}) as http:
        assert http.get("/api/v1/auth/session").json()["signed_in"] is False


def test_make_run_pins_every_port_the_temporal_dev_server_opens():
    """Each `--*-port` option `temporal server start-dev` has is given, from settings, so nothing
    picks a random port (the metrics and HTTP ports default to one)."""
    import devstack

    help_text = subprocess.run([str(DEV_SERVER), "server", "start-dev", "--help"], capture_output=True,
                               text=True, check=True).stdout
    options = set(re.findall(r"(--[a-z-]*port)\b", help_text))
    assert {"--port", "--ui-port", "--http-port", "--metrics-port"} <= options
    settings = Settings(environment="development", temporal_address="127.0.0.1:17233",
                        temporal_ui_url="http://127.0.0.1:18233", temporal_http_port=17243,
                        temporal_metrics_port=17235)
    command = devstack.temporal_command(settings)
    given = {arg: command[i + 1] for i, arg in enumerate(command) if arg in options}
    assert given == {"--port": "17233", "--ui-port": "18233", "--http-port": "17243", "--metrics-port": "17235"}
