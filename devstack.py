"""`make run`: the whole stack on embedded defaults, in one terminal; Ctrl-C stops all of it.

Starts the Temporal dev server (Web UI), migrates and seeds the database, starts the cPanel, Enom
and PayPal sandboxes and the SMTP sink, then the worker and the web/API server. Every port comes
from settings (environment), so a second copy can run beside the first.
"""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from settings import ROOT, Settings, get_settings
from store.db import make_engine, make_sessionmaker
from store.demo import load_demo
from store.migrate import upgrade
from workflows.contracts import SEARCH_ATTRIBUTES

log = logging.getLogger("mailmarket.devstack")
BIN = Path(sys.executable).parent


def port_of(url: str) -> int:
    return urlsplit(url if "//" in url else f"//{url}").port or 80


def wait_for_port(port: int, what: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with code {proc.returncode}; see the lines above")
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"{what} did not open port {port} within {timeout:.0f} s")


async def seed(settings: Settings) -> list[tuple[str, date]]:
    engine = make_engine(settings.async_database_url)
    async with make_sessionmaker(engine).begin() as session:
        domains = await load_demo(session, date.today())
    await engine.dispose()
    return domains


# `make run` offers cheque and wire with these made-up details, marked as such; a real deployment
# sets PAYEE_NAME, PAYEE_POSTAL_ADDRESS and BANK_DETAILS (or leaves them unset: PayPal only).
DEMO_PAYEE = {"PAYEE_NAME": "Mailmarket Demo (not a real payee)",
              "PAYEE_POSTAL_ADDRESS": "Demo only — do not post cheques",
              "BANK_DETAILS": "Demo only — no real account"}


def demo_epoch(settings: Settings) -> str:
    """With DEMO_DAY_SECONDS set, the shortened calendar starts at the first `make run` and keeps
    counting across restarts (var/demo-epoch), so running workflows and pages agree on the day."""
    if settings.demo_epoch is not None:
        return settings.demo_epoch.isoformat()
    path = Path(settings.temporal_db_file).parent / "demo-epoch"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(datetime.now(timezone.utc).isoformat())
    return path.read_text().strip()


def temporal_command(settings: Settings) -> list[str]:
    """The dev server with every port it opens given (gRPC, Web UI, HTTP API, metrics): left out,
    the HTTP and metrics ports are random, and a second copy of the stack could not be told apart."""
    sa_args = [arg for key in SEARCH_ATTRIBUTES for arg in ("--search-attribute", f"{key.name}=Keyword")]
    return [str(BIN / "temporal"), "server", "start-dev", "--ip", "127.0.0.1",
            "--port", str(port_of(settings.temporal_address)), "--ui-port", str(port_of(settings.temporal_ui_url)),
            "--http-port", str(settings.temporal_http_port), "--metrics-port", str(settings.temporal_metrics_port),
            "--db-filename", settings.temporal_db_file, "--log-level", "warn", *sa_args]


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # `make run` is a developer's machine: the built-in keys are allowed here (and in the processes
    # it starts), nowhere else
    os.environ.setdefault("ENVIRONMENT", "development")
    settings = get_settings()
    env = {**DEMO_PAYEE, **os.environ, "PYTHONUNBUFFERED": "1"}
    demo: list[str] = []
    if settings.demo_day_seconds > 0:
        env["DEMO_EPOCH"] = demo_epoch(settings)
        settings = Settings(demo_epoch=env["DEMO_EPOCH"])
        demo = ["--day-seconds", str(settings.demo_day_seconds), "--epoch", env["DEMO_EPOCH"]]
        log.info("demo calendar: a day lasts %ss; today is %s", settings.demo_day_seconds,
                 settings.calendar().today(datetime.now(timezone.utc)))
    procs: list[tuple[str, subprocess.Popen]] = []

    def start(what: str, args: list[str], port: int) -> None:
        proc = subprocess.Popen(args, env=env, cwd=ROOT)
        procs.append((what, proc))
        wait_for_port(port, what, proc)

    def stop(*_args) -> None:
        for what, proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
        for what, proc in reversed(procs):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        Path(settings.temporal_db_file).parent.mkdir(parents=True, exist_ok=True)
        temporal_port = port_of(settings.temporal_address)
        start("Temporal dev server", temporal_command(settings), temporal_port)

        upgrade(settings.sync_database_url)
        domains = asyncio.run(seed(settings))
        log.info("database ready (%s): %d domains", settings.sync_database_url.split("@")[-1], len(domains))

        py = sys.executable
        api_base = settings.public_base_url.rstrip("/")
        start("cPanel sandbox", [py, "-m", "providers.cpanel.sandbox", "--port", str(port_of(settings.cpanel_url)),
                                 "--user", settings.cpanel_user, "--token", settings.cpanel_token.get_secret_value()],
              port_of(settings.cpanel_url))
        start("Enom sandbox", [py, "-m", "providers.enom.sandbox", "--port", str(port_of(settings.enom_url)),
                               "--uid", settings.enom_uid, "--pw", settings.enom_pw.get_secret_value(), *demo],
              port_of(settings.enom_url))
        start("PayPal sandbox", [py, "-m", "providers.paypal.sandbox", "--port", str(port_of(settings.paypal_url)),
                                 "--client-id", settings.paypal_client_id,
                                 "--secret", settings.paypal_secret.get_secret_value(),
                                 "--webhook-url", f"{api_base}/webhooks/paypal",
                                 "--webhook-id", settings.paypal_webhook_id], port_of(settings.paypal_url))
        start("SMTP sink", [py, "-m", "providers.mail.sink", "--smtp-port", str(settings.smtp_port),
                            "--http-port", str(port_of(settings.sandbox_mail_viewer_url))],
              port_of(settings.sandbox_mail_viewer_url))
        enom_admin = settings.enom_url.rsplit("/", 1)[0] + "/__sandbox/domains"
        httpx.post(enom_admin, json=[{"name": n, "expiry": e.isoformat()} for n, e in domains]).raise_for_status()

        start("worker", [py, "-m", "worker"], temporal_port)  # the worker opens no port; just check it runs
        start("web/API server", [py, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1",
                                 "--port", str(port_of(api_base)), "--log-level", "warning"], port_of(api_base))
        print(f"""
mailmarket is running. Ctrl-C stops everything.
  site             {api_base}/
  API docs         {api_base}/docs
  Temporal UI      {settings.temporal_ui_url}
  sandbox mailbox  {settings.sandbox_mail_viewer_url}
  cPanel sandbox   {settings.cpanel_url}/__sandbox/state
  Enom sandbox     {settings.enom_url.rsplit('/', 1)[0]}/__sandbox/state
  PayPal sandbox   {settings.paypal_url}/__sandbox/state
READY""", flush=True)
        while True:
            for what, proc in procs:
                if proc.poll() is not None:
                    log.error("%s stopped (exit %s); stopping everything", what, proc.returncode)
                    stop()
            time.sleep(1)
    except KeyboardInterrupt:
        stop()
    except BaseException:
        for _what, proc in procs:
            if proc.poll() is None:
                proc.terminate()
        raise


if __name__ == "__main__":
    main()
