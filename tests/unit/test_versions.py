"""workflows/versions.py lists every patch marker the workflows call, with histories that really pin
each path, and every input field whose default lets an older history decode."""
from __future__ import annotations

import ast
import base64
import dataclasses
import importlib
import json
from pathlib import Path

import workflows.contracts as contracts
from workflows import versions
from workflows.contracts import names

ROOT = Path(__file__).resolve().parents[2]
HISTORIES = ROOT / "tests" / "replay" / "histories"
PATCH_CALLS = {"patched", "deprecate_patch"}


def _patch_ids_called() -> dict[str, list[str]]:
    """patch id -> where workflows/ calls workflow.patched / deprecate_patch with it (a literal or a name)."""
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "workflows").rglob("*.py")):
        module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in PATCH_CALLS and node.args):
                arg = node.args[0]
                value = arg.value if isinstance(arg, ast.Constant) else getattr(module, ast.unparse(arg).split(".")[-1])
                found.setdefault(value, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def _history(name: str) -> dict:
    return json.loads((HISTORIES / name).read_text())


def _workflow_type(history: dict) -> str:
    return history["events"][0]["workflowExecutionStartedEventAttributes"]["workflowType"]["name"]


def _markers(history: dict) -> set[str]:
    ids = {p.id for p in versions.PATCHES}
    seen = set()
    for event in history["events"]:
        attributes = event.get("markerRecordedEventAttributes")
        for payloads in (attributes or {}).get("details", {}).values():
            for payload in payloads.get("payloads", []):
                text = base64.b64decode(payload.get("data", "")).decode(errors="replace")
                seen |= {i for i in ids if i in text}
    return seen


def test_every_patch_called_in_workflows_is_listed():
    listed = {p.id for p in versions.PATCHES}
    called = _patch_ids_called()
    assert called, "the scan found no patched() call"
    assert set(called) <= listed, {k: v for k, v in called.items() if k not in listed}
    # a listed patch is still called, unless the plan says it is gone
    assert {p.id for p in versions.PATCHES if p.step != versions.Step.REMOVED} <= set(called)


def test_the_patch_ids_are_reexported_unchanged():
    for name in ("BILLING_V4", "PAYPAL_TRUTH", "PAYPAL_READ_BACK", "CHANGE_OUTCOMES", "LIFECYCLE_V3"):
        assert getattr(names, name) == getattr(versions, name)
    assert contracts.BILLING_V4 == versions.BILLING_V4 and contracts.PAYPAL_TRUTH == versions.PAYPAL_TRUTH


def test_each_listed_history_exists_and_pins_its_path():
    for patch in versions.PATCHES:
        assert not set(patch.old_path_histories) & set(patch.new_path_histories), patch.id
        for name in patch.old_path_histories + patch.new_path_histories:
            assert (HISTORIES / name).is_file(), f"{patch.id}: {name} is not committed"
            history = _history(name)
            assert _workflow_type(history) in patch.workflows, (patch.id, name)
            took_new_path = patch.id in _markers(history)
            assert took_new_path == (name in patch.new_path_histories), (patch.id, name)
        if patch.step == versions.Step.PATCHED:
            assert patch.new_path_histories, f"{patch.id}: no history pins the new path"
        assert patch.retire and patch.id in patch.old_path_query()


def _payload_dicts(value):
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from _payload_dicts(v)
    elif isinstance(value, list):
        for v in value:
            yield from _payload_dicts(v)


def _start_input(history: dict):
    payloads = history["events"][0]["workflowExecutionStartedEventAttributes"].get("input", {}).get("payloads", [])
    return json.loads(base64.b64decode(payloads[0]["data"])) if payloads else None


def test_each_versioning_default_is_what_the_listed_histories_need():
    for default in versions.DEFAULTS:
        class_name, field_name = default.field.split(".")
        cls = getattr(contracts, class_name)
        field = {f.name: f for f in dataclasses.fields(cls)}[field_name]
        assert field.default is not dataclasses.MISSING and repr(field.default) == default.default.replace('"', "'")
        required = {f.name for f in dataclasses.fields(cls)
                    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
        lacking = set()
        for path in sorted(HISTORIES.glob("*.json")):
            instances = [d for d in _payload_dicts(_start_input(_history(path.name))) if required <= set(d)]
            if instances and any(field_name not in d for d in instances):
                lacking.add(path.name)
        assert lacking == set(default.histories), default.field
