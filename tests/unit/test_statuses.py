"""Statuses are names in core.statuses: every status column of the store names its StrEnum, its default is
a member, and no module of core, store, activities, providers, workflows or api compares or sets a status by a
quoted string (templates may)."""
from __future__ import annotations

import ast
import json
from enum import StrEnum
from pathlib import Path

import core.statuses as statuses
from store.models import LIVE_SQL, Base

ROOT = Path(__file__).resolve().parents[2]
STATUS_COLUMNS = {"status", "state", "outcome", "decision", "billing", "billing_mode", "method"}
FREE_TEXT = {("webhook_events", "outcome"), ("paypal_cases", "outcome")}   # what a handler did, in words
SCANNED = ("core", "store", "activities", "providers", "workflows", "api")


def _enums(column) -> tuple[type[StrEnum], ...]:
    found = column.info.get("statuses", ())
    return found if isinstance(found, tuple) else (found,)


def _status_columns():
    for table in Base.metadata.tables.values():
        for column in table.columns:
            if ((column.name in STATUS_COLUMNS or "statuses" in column.info)
                    and (table.name, column.name) not in FREE_TEXT):
                yield table.name, column


def test_every_status_column_names_its_enum_and_defaults_to_a_member():
    for table, column in _status_columns():
        enums = _enums(column)
        assert enums and all(issubclass(e, StrEnum) and e.__module__ == "core.statuses" for e in enums), \
            f"{table}.{column.name} names no StrEnum of core.statuses (info={{'statuses': ...}})"
        allowed = {m.value for e in enums for m in e}
        if column.default is not None and not callable(column.default.arg):
            assert column.default.arg in allowed, (table, column.name, column.default.arg)
        if column.server_default is not None:
            assert column.server_default.arg in allowed, (table, column.name, column.server_default.arg)


def test_every_stored_enum_is_some_columns_and_members_are_their_strings():
    stored = {e for _, column in _status_columns() for e in _enums(column)}
    everything = {v for v in vars(statuses).values() if isinstance(v, type) and issubclass(v, StrEnum)
                  and v is not StrEnum}
    not_stored = {statuses.OrderRunStatus, statuses.RefundOutcomeStatus, statuses.PayPalOrderStatus,
                  statuses.PayPalCaptureStatus, statuses.WebhookOutcome}   # workflow answers, PayPal's words
    assert everything - not_stored == stored
    for enum in everything:
        for member in enum:
            assert member == member.value and f"{member}" == member.value and json.dumps(member) == f'"{member.value}"'


def test_live_statuses_are_the_partial_index_predicate():
    assert LIVE_SQL == "status IN ({})".format(", ".join(f"'{s}'" for s in statuses.LIVE_STATUSES))
    assert set(statuses.RENEWABLE_STATUSES) <= set(statuses.LIVE_STATUSES)
    assert set(statuses.OPENING_ORDER_STATUS) == set(statuses.BillingMode)


def _quoted(node) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [v for elt in node.elts for v in _quoted(elt)]
    return []


def _status_target(node) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr in STATUS_COLUMNS
    if isinstance(node, ast.Subscript):      # a PayPal resource in the sandbox: cap["status"]
        return _quoted(node.slice) == ["status"]
    return isinstance(node, ast.Name) and node.id in {"status"}


KNOWN = {m.value for v in vars(statuses).values() if isinstance(v, type) and issubclass(v, StrEnum)
         and v is not StrEnum for m in v} - {""}


def _quoted_statuses_in(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        values: list[str] = []
        if isinstance(node, ast.Compare) and (_status_target(node.left)
                                              or any(_status_target(c) for c in node.comparators)):
            values = [v for part in (node.left, *node.comparators) for v in _quoted(part)]
        elif isinstance(node, ast.Assign) and any(_status_target(t) for t in node.targets):
            values = _quoted(node.value)
        elif isinstance(node, ast.keyword) and node.arg in STATUS_COLUMNS:
            values = _quoted(node.value)
        found += [(getattr(node, "lineno", 0), v) for v in values if v in KNOWN]
    return found


def test_no_quoted_status_in_the_code():
    found = [f"{path.relative_to(ROOT)}:{line}: {value!r}"
             for package in SCANNED for path in (ROOT / package).rglob("*.py")
             if "migrations" not in path.parts and path.name != "statuses.py"
             for line, value in _quoted_statuses_in(path.read_text())]
    assert found == []


def test_the_scan_sees_a_quoted_status():
    source = ('if invoice.status == "paid" or sub.status in ("active", "expired"):\n'
              '    row.state = "sent"\n'
              'Order(kind="x", status="cancelled")\n'
              'if cap["status"] != "PENDING" and invoice.status == InvoiceStatus.PAID: pass\n')
    assert sorted(v for _, v in _quoted_statuses_in(source)) == ["PENDING", "active", "cancelled", "expired", "paid",
                                                                   "sent"]
