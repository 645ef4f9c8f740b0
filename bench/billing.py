"""Billing at a year's scale: 20,000 clients, 120,000 invoices over twelve months with their lines,
payments (some partial, some refunded), credit notes and credit entries in PostgreSQL (loaded once
with COPY, reused), then what operators and the accountant ask of it:

- the four CSV exports of one month (about 10,000 invoices), as the API builds them;
- the operators' invoice list (newest 100, all and unpaid only), as the Billing page asks for it;
- invoice PDFs rendered (fpdf2), per second.

    .venv/bin/python bench/billing.py [--reload]

Last line: `billing export_month_ms=.. (max of the four) list_p95_ms=.. pdf_per_s=.. rows=..`.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.services.billing import Billing  # noqa: E402
from settings import Settings  # noqa: E402
from store import dunning, invoice_pdf  # noqa: E402
from store.db import make_engine, make_sessionmaker  # noqa: E402
from store.invoicing import Seller  # noqa: E402
from store.migrate import upgrade  # noqa: E402

DB = "mm_bench_billing"
URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DB}"
CLIENTS, INVOICES = 20_000, 120_000
YEAR = 2026


def _copy(cur, table: str, columns: list[str], rows) -> None:
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def load() -> None:
    """Create (or recreate) the database and fill it; about a minute."""
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DB}"')
    upgrade(URL)
    rnd = random.Random(5)
    start = datetime(YEAR, 1, 1, tzinfo=timezone.utc)
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{DB}") as conn, conn.cursor() as cur:
        _copy(cur, "clients", ["id", "email", "password_hash", "name", "company", "phone", "address_line", "city",
                               "country", "is_operator", "auto_renew", "apply_credit", "suspended_reason",
                               "billing_mode"],
              ((i, f"client{i}@bench.example", "x", f"Client {i}", "", "", "1 Main St", "Springfield", "US", False,
                True, True, "", "postpaid" if i % 20 == 0 else "prepaid") for i in range(1, CLIENTS + 1)))
        invoices, lines, payments, notes, entries = [], [], [], [], []
        for i in range(1, INVOICES + 1):
            issued = start + timedelta(seconds=rnd.randrange(365 * 86400))
            client = rnd.randrange(1, CLIENTS + 1)
            qty, unit = rnd.choice([1, 1, 2, 3, 5]), rnd.choice([1200, 2400, 4500, 9900])
            total = qty * unit
            roll = rnd.random()
            status = "paid" if roll < 0.85 else "unpaid" if roll < 0.97 else "cancelled"
            invoices.append((i, f"{YEAR}-{i:06d}", client, status, "USD", total, 0, 0, total, issued,
                             issued + timedelta(days=14), issued + timedelta(hours=2) if status == "paid" else None,
                             0, "bench"))
            lines.append((i, i, f"Email forwarder {i}@bench.example, {qty} years", qty, qty, unit, total, 0, 0, 0))
            if status == "paid":
                payments.append((len(payments) + 1, i, "paypal", total, "USD", f"CAP-{i}",
                                 issued + timedelta(hours=2), total, "paypal"))
                if rnd.random() < 0.01:
                    payments.append((len(payments) + 1, i, "paypal_refund", -unit, "USD", f"REF-{i}",
                                     issued + timedelta(days=3), -unit, "paypal"))
            elif status == "unpaid" and rnd.random() < 0.3:
                payments.append((len(payments) + 1, i, "cheque", total // 2, "USD", f"CHQ-{i}",
                                 issued + timedelta(days=5), total // 2, "operator:1"))
            elif status == "cancelled":
                notes.append((f"CN-{YEAR}-{len(notes) + 1:06d}", i, client, "USD", total, 0, "bench", "operator:1",
                              issued + timedelta(days=1)))
            if rnd.random() < 0.05:
                entries.append((client, "USD", 500, "adjustment", f"adj-{i}", "goodwill", None, "operator:1",
                                issued))
        _copy(cur, "invoices", ["id", "number", "client_id", "status", "currency", "subtotal_minor", "discount_minor",
                                "tax_minor", "total_minor", "issued_at", "due_at", "paid_at", "reminders_sent",
                                "created_by"], invoices)
        _copy(cur, "invoice_lines", ["id", "invoice_id", "description", "period_years", "quantity", "unit_minor",
                                     "amount_minor", "discount_minor", "tax_bp", "tax_minor"], lines)
        _copy(cur, "payments", ["id", "invoice_id", "method", "amount_minor", "currency", "reference",
                                "received_at", "applied_minor", "actor"], payments)
        _copy(cur, "credit_notes", ["number", "invoice_id", "client_id", "currency", "amount_minor",
                                    "credited_minor", "reason", "actor", "issued_at"], notes)
        _copy(cur, "credit_entries", ["client_id", "currency", "amount_minor", "kind", "reference", "reason",
                                      "invoice_id", "actor", "created_at"], entries)
        for table in ("clients", "invoices", "invoice_lines", "payments", "credit_notes", "credit_entries"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.commit()
        cur.execute("ANALYZE")


def loaded() -> bool:
    try:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{DB}") as conn:
            return conn.execute("SELECT count(*) FROM invoices").fetchone()[0] == INVOICES
    except psycopg.Error:
        return False


async def measure() -> str:
    upgrade(URL)   # a reused database gets today's migrations (indexes) too
    settings = Settings(database_url=URL, environment="development")
    engine = make_engine(settings.async_database_url)
    sessions = make_sessionmaker(engine)
    billing = Billing(settings, sessions, temporal=None, checkout=None)  # type: ignore[arg-type]
    month = date(YEAR, 6, 1)
    try:
        exports, rows = {}, 0
        for kind in ("invoices", "payments", "credit-notes", "credit"):
            await billing.export_csv(kind, month.isoformat(), date(YEAR, 6, 30).isoformat(), month)   # warm
            t = time.perf_counter()
            _, body = await billing.export_csv(kind, month.isoformat(), date(YEAR, 6, 30).isoformat(), month)
            exports[kind] = (time.perf_counter() - t) * 1000
            rows += body.count("\r\n") - 1
        lists = []
        for i in range(40):
            t = time.perf_counter()
            await billing.invoices("unpaid" if i % 2 else "")
            lists.append((time.perf_counter() - t) * 1000)
        lists.sort()
        async with sessions() as session:
            found = await dunning.operator_invoices(session, status="paid")
        numbers = [invoice.number for invoice, _, _ in found[:30]]
        t = time.perf_counter()
        for number in numbers:
            async with sessions() as session:
                await invoice_pdf.of_number(session, number, Seller("mailmarket", "1 Main St", "TAX-1"))
        pdf_per_s = len(numbers) / (time.perf_counter() - t)
    finally:
        await engine.dispose()
    detail = " ".join(f"{k}={v:.0f}" for k, v in exports.items())
    return (f"billing export_month_ms={max(exports.values()):.0f} list_p95_ms={lists[int(len(lists) * 0.95) - 1]:.1f} "
            f"list_p50_ms={statistics.median(lists):.1f} pdf_per_s={pdf_per_s:.0f} rows={rows} ({detail})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reload", action="store_true", help="drop and load the data again")
    args = parser.parse_args()
    if args.reload or not loaded():
        t = time.perf_counter()
        load()
        print(f"loaded in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    print(asyncio.run(measure()))


if __name__ == "__main__":
    main()
