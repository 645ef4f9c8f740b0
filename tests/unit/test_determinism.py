"""Workflows and core never read the clock or draw chance themselves (STYLE.md, idiom 5): workflows use
workflow.now() / workflow.uuid4() / workflow.random(); core takes `today`/`now` as a parameter."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("workflows", "core")
CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
         ("uuid", "uuid1"), ("uuid", "uuid4"), ("time", "time"), ("time", "time_ns"), ("time", "monotonic")}
NAMES = {"uuid1", "uuid4", "utcnow"}          # from uuid import uuid4; from datetime import ... as utcnow
MODULES = {"random"}                         # workflow.random() is the deterministic one


def _dotted(node: ast.expr) -> tuple[str, ...]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return ()                            # a call's result: workflow.random().random()
    parts.append(node.id)
    return tuple(reversed(parts))


def nondeterminism(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, f"import {a.name}") for a in node.names if a.name.split(".")[0] in MODULES]
        elif isinstance(node, ast.ImportFrom):
            if (node.module or "").split(".")[0] in MODULES:
                found.append((node.lineno, f"from {node.module} import"))
            found += [(node.lineno, f"from {node.module} import {a.name}") for a in node.names
                      if (node.module, a.name) in {("uuid", "uuid1"), ("uuid", "uuid4"), ("time", "time")}]
        elif isinstance(node, (ast.Attribute, ast.Name)):
            dotted = _dotted(node)
            if dotted[-2:] in CALLS and dotted[0] != "workflow":
                found.append((node.lineno, ".".join(dotted)))
            elif isinstance(node, ast.Name) and node.id in NAMES:
                found.append((node.lineno, node.id))
            elif isinstance(node, ast.Attribute) and dotted[:1] == ("random",):
                found.append((node.lineno, ".".join(dotted)))
    return sorted(set(found))


def test_no_clock_or_chance_in_workflows_or_core():
    found = [f"{path.relative_to(ROOT)}:{line}: {what}"
             for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))
             for line, what in nondeterminism(path.read_text())]
    assert found == []


def test_the_scan_sees_each_way_in():
    source = ("import random\nfrom uuid import uuid4\nimport time, uuid\nfrom datetime import date, datetime\n"
              "a = datetime.now()\nb = datetime.utcnow()\nc = date.today()\nd = uuid.uuid4()\ne = uuid4()\n"
              "f = time.time()\ng = random.random()\nh = datetime.datetime.now(tz)\n"
              "ok = workflow.now(), workflow.uuid4(), workflow.random().random()\n")
    assert [line for line, _ in nondeterminism(source)] == [1, 2, 5, 6, 7, 8, 9, 10, 11, 12]
