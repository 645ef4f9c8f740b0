"""Portfolio import from CSV through the operator command: idempotent, all-or-nothing."""
from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import select

from store.models import Domain, DomainBackup
from tests.support import ROOT, unique


def run_cli(pg_url: str, path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", "import-portfolio", str(path)], cwd=ROOT,
                          env={**os.environ, "DATABASE_URL": pg_url, "ENVIRONMENT": "development"}, capture_output=True, text=True, timeout=60)


async def test_import_is_idempotent_and_refuses_bad_files_whole(pg_url, pg_sessions, tmp_path):
    tag = unique("imp")
    a, b, backup = f"{tag}-army.us", f"{tag}-navy.us", f"{tag}-vets.us"
    good = tmp_path / "portfolio.csv"
    good.write_text("domain,category,subcategory,listed,backups\n"
                    f"{a},Service {tag},Veterans,yes,{backup}\n{b},Service {tag},Veterans,yes,\n{backup},Service {tag},,no,\n")
    first = run_cli(pg_url, good)
    assert first.returncode == 0, first.stderr
    assert "3 domains created" in first.stdout and "3/3 domains" in first.stderr
    again = run_cli(pg_url, good)
    assert "0 domains created, 0 updated, 3 unchanged" in again.stdout
    async with pg_sessions() as session:
        army = (await session.execute(select(Domain).where(Domain.name == a))).scalar_one()
        backups = (await session.execute(select(DomainBackup).where(DomainBackup.domain_id == army.id))).scalars().all()
        assert len(backups) == 1
        assert not (await session.execute(select(Domain).where(Domain.name == backup))).scalar_one().listed

    bad = tmp_path / "bad.csv"
    bad.write_text("domain,category,subcategory,listed,backups\n"
                   f"{tag}-new.org,X,,yes,\nnot a domain,X,,yes,\n{tag}-two.org,,,maybe,\n")
    refused = run_cli(pg_url, bad)
    assert refused.returncode == 2
    assert "Nothing was imported" in refused.stderr and "line 3" in refused.stderr and "line 4" in refused.stderr
    async with pg_sessions() as session:
        assert (await session.execute(select(Domain).where(Domain.name == f"{tag}-new.org"))).first() is None
