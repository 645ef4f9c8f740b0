"""Operator commands: `python -m cli import-portfolio FILE.csv`, `python -m cli make-operator EMAIL`."""
from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from core.errors import BusinessError
from core.portfolio import parse_portfolio
from settings import get_settings
from store.db import make_engine, make_sessionmaker
from store.migrate import upgrade
from store.portfolio import import_portfolio
from store import audit, clients


def bar(total: int):
    def show(done: int) -> None:
        if done == total or done % max(1, total // 100) == 0:
            filled = int(30 * done / total)
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} domains")
            if done == total:
                sys.stderr.write("\n")
    return show


async def import_file(path: Path) -> int:
    settings = get_settings()
    upgrade(settings.sync_database_url)
    try:
        rows = parse_portfolio(path.read_text(encoding="utf-8-sig"))
    except BusinessError as exc:
        print(exc.message, file=sys.stderr)
        return 2
    engine = make_engine(settings.async_database_url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            summary = await import_portfolio(session, rows, actor="operator:cli", progress=bar(len(rows)))
    except BusinessError as exc:
        print(exc.message, file=sys.stderr)
        return 2
    finally:
        await engine.dispose()
    print(f"{len(rows)} rows: {summary.domains_created} domains created, {summary.domains_updated} updated, "
          f"{summary.domains_unchanged} unchanged; {summary.categories_created} categories created; "
          f"backups changed for {summary.backups_set} domains")
    return 0


async def make_operator(email: str) -> int:
    """Give an existing account the operators' pages and API (Payments, Billing, Reserved names)."""
    settings = get_settings()
    upgrade(settings.sync_database_url)
    engine = make_engine(settings.async_database_url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            client = await clients.client_by_email(session, email.strip().lower())
            if client is None:
                print(f"There is no account {email!r}; sign up first, then run this again.", file=sys.stderr)
                return 2
            if not client.is_operator:
                client.is_operator = True
                audit.record(session, "operator:cli", "client.made_operator", "client", client.id,
                             {"is_operator": False}, {"is_operator": True})
    finally:
        await engine.dispose()
    print(f"{email.strip().lower()} is an operator.")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m cli", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import-portfolio", help="import domains from CSV: domain,category,subcategory,listed,backups")
    imp.add_argument("file", type=Path)
    op = sub.add_parser("make-operator", help="give an existing account the operators' pages and API")
    op.add_argument("email")
    args = parser.parse_args()
    if args.command == "import-portfolio":
        raise SystemExit(asyncio.run(import_file(args.file)))
    if args.command == "make-operator":
        raise SystemExit(asyncio.run(make_operator(args.email)))


if __name__ == "__main__":
    main()
