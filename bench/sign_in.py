"""Sign-in and sign-up timing: does the answer take as long for an address with no account as for
one with an account? In-process (TestClient), SQLite in a temporary directory, the email workflow
start stubbed.

    .venv/bin/python bench/sign_in.py [--rounds 20]

Last line: `sign_in known_wrong_ms=.. unknown_ms=.. signup_new_ms=.. signup_known_ms=..` (medians).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from unittest.mock import AsyncMock, MagicMock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from api.app import create_app  # noqa: E402
from settings import Settings  # noqa: E402
from store.migrate import upgrade  # noqa: E402


def medians_ms(http: TestClient, path: str, kinds: dict[str, tuple[list[dict], int]]) -> dict[str, float]:
    """Each kind's median; the kinds take turns request by request, so a busy machine slows all alike."""
    csrf = {"X-CSRF-Token": http.get("/api/v1/auth/session").json()["csrf_token"]}
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    for i in range(max(len(bodies) for bodies, _ in kinds.values())):
        for kind, (bodies, status) in kinds.items():
            started = time.perf_counter()
            r = http.post(path, json=bodies[i], headers=csrf)
            times[kind].append((time.perf_counter() - started) * 1000)
            assert r.status_code == status, r.text
    return {kind: statistics.median(t) for kind, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    rounds = parser.parse_args().rounds
    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    upgrade(url)
    temporal = MagicMock()
    temporal.start_workflow = AsyncMock()
    settings = Settings(database_url=url, environment="development", sign_in_failures_per_account=10**9,
                        sign_in_failures_per_ip=10**9)
    with TestClient(create_app(settings, temporal=temporal)) as http:
        password = "a long passphrase"
        known = "known@bench.example"
        medians_ms(http, "/api/v1/auth/signup", {"first": ([{"email": known, "password": password, "name": "K"}], 202)})
        signup = medians_ms(http, "/api/v1/auth/signup", {
            "new": ([{"email": f"new{i}@bench.example", "password": password, "name": "N"} for i in range(rounds)], 202),
            "known": ([{"email": known, "password": password, "name": "N"}] * rounds, 202)})
        login = medians_ms(http, "/api/v1/auth/login", {
            "known_wrong": ([{"email": known, "password": "wrong password!"}] * rounds, 401),
            "unknown": ([{"email": f"nobody{i}@bench.example", "password": password} for i in range(rounds)], 401)})
    print(f"sign_in known_wrong_ms={login['known_wrong']:.1f} unknown_ms={login['unknown']:.1f} "
          f"signup_new_ms={signup['new']:.1f} signup_known_ms={signup['known']:.1f}")


if __name__ == "__main__":
    main()
