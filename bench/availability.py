"""Availability at scale: 1,000 domains, 1,000,000 sold addresses, 10,000 reserved entries in
PostgreSQL (loaded once, reused), 10 x 20 grids through the HTTP API.

    .venv/bin/python bench/availability.py [--grids 200]

Last line: `availability p50_ms=.. p99_ms=.. checks_per_s=.. naive_ratio=..`; naive_ratio is the
time to check the same grids with one query per combination divided by the project's grid
check, both in this process against the same database (HTTP is not part of either side).
"""
from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import psycopg
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.app import create_app  # noqa: E402
from api.services.availability import Portfolio, check_grid  # noqa: E402
from providers.sandbox_kit import free_port  # noqa: E402
from settings import Settings  # noqa: E402
from store.db import make_engine, make_sessionmaker  # noqa: E402
from store.migrate import upgrade  # noqa: E402

DB = "mm_bench"
URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DB}"
DOMAINS, SOLD, RESERVED = 1_000, 1_000_000, 10_000
FIRST = ["mike", "michael", "carol", "anna", "john", "mary", "david", "sarah", "james", "linda", "robert", "lisa",
         "paul", "karen", "mark", "susan", "peter", "nancy", "tom", "emma", "noah", "olivia", "liam", "ava"]


class NoTemporal:
    """Availability checks never touch Temporal; the bench serves them without a server."""


def bench_app():
    settings = Settings(database_url=URL, environment="development", checks_per_minute_per_ip=10**9, checks_per_minute_per_client=10**9)
    return create_app(settings, temporal=NoTemporal())  # type: ignore[arg-type]


def wait_until_up(url: str, proc: subprocess.Popen) -> None:
    for _ in range(200):
        if proc.poll() is not None:
            raise SystemExit("the API process exited")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("the API did not start")


def name_for(i: int) -> str:
    return f"{FIRST[i % len(FIRST)]}{i // len(FIRST)}"


def load() -> None:
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB,)).fetchone():
            conn.execute(f'CREATE DATABASE "{DB}"')
    upgrade(URL)
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{DB}") as conn:
        if conn.execute("SELECT count(*) FROM address_subscriptions").fetchone()[0] >= SOLD:
            print("reusing the loaded data", file=sys.stderr)
            return
        started = time.monotonic()
        conn.execute("TRUNCATE address_subscriptions, reserved_names, cpanel_inventory, domain_backups, "
                     "order_lines, invoice_lines, payments, invoices, orders, domains, categories, clients CASCADE")
        conn.execute("INSERT INTO clients (id, email, password_hash, name, company, phone, address_line, city, "
                     "country, is_operator) VALUES (1, 'bench@example.net', 'x', 'Bench', '', '', '', '', '', false)")
        conn.execute("INSERT INTO categories (id, name, slug) VALUES (1, 'Bench', 'bench')")
        with conn.cursor().copy("COPY domains (id, name, display_name, category_id, listed) FROM STDIN") as copy:
            for d in range(1, DOMAINS + 1):
                copy.write_row((d, f"bench{d}.org", f"bench{d}.org", 1, True))
        with conn.cursor().copy("COPY address_subscriptions (address, local_part, domain_id, kind, client_id, "
                                "term_years, status, status_reason, destination, workflow_id) FROM STDIN") as copy:
            for i in range(SOLD):  # each domain gets ~1,000 of the most common names
                d = i % DOMAINS + 1
                local = name_for(i // DOMAINS)
                copy.write_row((f"{local}@bench{d}.org", local, d, "forwarder", 1, 1, "active", "", "x@y.example",
                                f"address:{local}@bench{d}.org"))
        with conn.cursor().copy("COPY reserved_names (domain_id, pattern, is_prefix, reason) FROM STDIN") as copy:
            for r in range(RESERVED):  # 1 in 100 is a prefix pattern
                copy.write_row((None if r < 2_000 else r % DOMAINS + 1,
                                f"role{r}" if r % 100 else f"sys{r}*", r % 100 == 0, "bench"))
        conn.execute("ANALYZE")
        conn.commit()
        print(f"loaded in {time.monotonic() - started:.0f} s", file=sys.stderr)


def grids(count: int) -> list[tuple[list[str], list[str]]]:
    rng = random.Random(11)
    out = []
    for _ in range(count):
        # half the names are sold somewhere (low numbers), half are free (high numbers)
        names = [name_for(i) for i in rng.sample(range(0, 2_000), 5) + rng.sample(range(50_000, 60_000), 5)]
        domains = [f"bench{d}.org" for d in rng.sample(range(1, DOMAINS + 1), 20)]
        out.append((names, domains))
    return out


NAIVE = text("""SELECT
  EXISTS (SELECT 1 FROM address_subscriptions WHERE address = :address
          AND status IN ('pending_payment', 'provisioning', 'active', 'attention')),
  EXISTS (SELECT 1 FROM cpanel_inventory i JOIN domains d ON d.id = i.domain_id
          WHERE d.name = :domain AND i.local_part = :name),
  EXISTS (SELECT 1 FROM reserved_names r LEFT JOIN domains d ON d.id = r.domain_id
          WHERE (r.domain_id IS NULL OR d.name = :domain)
          AND (r.pattern = :name OR (r.is_prefix AND :name LIKE replace(r.pattern, '*', '%'))))""")


async def compare(work: list[tuple[list[str], list[str]]]) -> float:
    engine = make_engine(URL)
    sessions = make_sessionmaker(engine)
    portfolio = Portfolio()  # cached, as the API keeps it
    async with sessions() as session:
        await portfolio.fresh(session)
        started = time.perf_counter()
        for names, domains in work:
            await check_grid(session, names, domains, max_names=10, max_domains=20, suggest=False,
                             portfolio=portfolio)
        ours = time.perf_counter() - started
        started = time.perf_counter()
        for names, domains in work:
            for name in names:
                for domain in domains:
                    await session.execute(NAIVE, {"address": f"{name}@{domain}", "domain": domain, "name": name})
        naive = time.perf_counter() - started
    await engine.dispose()
    return naive / ours


def run_grids(port: int, work: list[tuple[list[str], list[str]]]) -> tuple[list[float], float]:
    """One keep-alive connection, one request at a time; the stdlib client keeps the client's own
    cost out of the latency (httpx adds 2-3 ms a request on this machine)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def get(names: list[str], domains: list[str]) -> tuple[int, bytes]:
        connection.request("GET", "/api/v1/availability?" + urlencode({"names": ",".join(names),
                                                                        "domains": ",".join(domains)}))
        response = connection.getresponse()
        return response.status, response.read()

    for names, domains in work[:20]:  # warm-up: connections, prepared statements, caches
        get(names, domains)
    latencies = []
    started = time.perf_counter()
    for names, domains in work:
        t = time.perf_counter()
        status, body = get(names, domains)
        latencies.append((time.perf_counter() - t) * 1000)
        if status != 200 or len(json.loads(body)["cells"]) != 200:
            raise SystemExit(f"unexpected answer: {status} {body[:300]!r}")
    elapsed = time.perf_counter() - started
    connection.close()
    return latencies, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--grids", type=int, default=400)
    args = parser.parse_args()
    load()
    port = free_port()
    # the API in its own process, as in production (a thread here would share the client's GIL)
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "bench.availability:bench_app", "--factory",
                               "--port", str(port), "--log-level", "warning"], cwd=ROOT)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/api/v1/catalog", server)
        work = grids(args.grids)
        latencies, elapsed = run_grids(port, work)
    finally:
        server.terminate()
        server.wait(timeout=10)
    ratio = asyncio.run(compare(work[: max(10, args.grids // 4)]))
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"availability p50_ms={statistics.median(latencies):.1f} p99_ms={p99:.1f} "
          f"checks_per_s={len(work) * 200 / elapsed:.0f} naive_ratio={ratio:.1f}")


if __name__ == "__main__":
    main()
