"""The processes as `make run` starts them (devstack), on free ports and a temporary SQLite file."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest

from providers.sandbox_kit import free_port
from tests.support import ROOT


@dataclass
class Stack:
    site: str
    cpanel: str
    enom: str
    paypal: str
    mail: str
    temporal_ui: str
    env: dict


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stack")
    ports = {name: free_port() for name in ("api", "temporal", "ui", "temporal_http", "temporal_metrics", "cpanel",
                                            "enom", "paypal", "smtp", "mail")}
    env = {
        **os.environ,
        "ENVIRONMENT": "development",   # as `make run` sets for itself; the cli commands run beside it need it too
        "DATABASE_URL": f"sqlite:///{tmp / 'mailmarket.db'}",
        "TEMPORAL_DB_FILE": str(tmp / "temporal.db"),
        "TEMPORAL_ADDRESS": f"127.0.0.1:{ports['temporal']}",
        "TEMPORAL_UI_URL": f"http://127.0.0.1:{ports['ui']}",
        "TEMPORAL_HTTP_PORT": str(ports["temporal_http"]),
        "TEMPORAL_METRICS_PORT": str(ports["temporal_metrics"]),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{ports['api']}",
        "CPANEL_URL": f"http://127.0.0.1:{ports['cpanel']}",
        "ENOM_URL": f"http://127.0.0.1:{ports['enom']}/interface.asp",
        "PAYPAL_URL": f"http://127.0.0.1:{ports['paypal']}",
        "SMTP_PORT": str(ports["smtp"]),
        "SANDBOX_MAIL_VIEWER_URL": f"http://127.0.0.1:{ports['mail']}",
    }
    log = open(tmp / "devstack.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "devstack"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while True:
        log.seek(0)
        if "READY" in log.read():
            break
        if proc.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            pytest.fail(f"devstack did not start:\n{log.read()[-4000:]}")
        time.sleep(0.3)
    yield Stack(site=env["PUBLIC_BASE_URL"], cpanel=env["CPANEL_URL"], enom=env["ENOM_URL"].rsplit("/", 1)[0],
                paypal=env["PAYPAL_URL"], mail=env["SANDBOX_MAIL_VIEWER_URL"], temporal_ui=env["TEMPORAL_UI_URL"],
                env=env)
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    log.close()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium; installed with apt-get when missing (the test machine is root)."""
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
        done = subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], capture_output=True, text=True)
        if done.returncode != 0 or not os.path.exists("/usr/bin/chromium"):
            pytest.fail(f"Chromium is needed for browser tests and could not be installed:\n{done.stderr[-2000:]}")
        path = "/usr/bin/chromium"
    return path
