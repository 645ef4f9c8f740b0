"""One refusal catalogue (core.refusals): every code the code base refuses with is a member, with a
sentence and a status; core, store and api raise through `refuse()`, never with a code written inline."""
from __future__ import annotations

import ast
import string
from pathlib import Path

from core.errors import BusinessError
from core.refusals import Refusals, openapi_responses, refuse
from workflows.contracts.common import Refusal as WorkflowRefusal

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "store", "activities", "providers", "workflows", "api")
REFUSES_BY_NAME = ("core", "store", "api")


def _name(func: ast.expr) -> str | None:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _inline_codes(source: str) -> list[tuple[int, str]]:
    """(line, code) for each BusinessError(code, ...), ApplicationError(..., type=code) or
    WebhookRejected(message, code) whose code is a string literal."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name, keywords = _name(node.func), {k.arg: k.value for k in node.keywords}
        if name == "BusinessError":
            code = node.args[0] if node.args else keywords.get("code")
        elif name == "ApplicationError":
            code = keywords.get("type")
        elif name == "WebhookRejected":
            code = node.args[1] if len(node.args) > 1 else keywords.get("code")
        else:
            continue
        if isinstance(code, ast.Constant) and isinstance(code.value, str):
            found.append((node.lineno, code.value))
    return found


def _sources(packages):
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path.relative_to(ROOT), path.read_text()


def test_every_code_raised_inline_is_in_the_catalogue():
    missing = [f"{path}:{line}: {code}" for path, source in _sources(PACKAGES)
               for line, code in _inline_codes(source) if code not in Refusals.__members__.values()]
    assert missing == []


def test_the_workflows_refusal_types_are_in_the_catalogue():
    types = {v for k, v in vars(WorkflowRefusal).items() if not k.startswith("_")}
    assert types and types <= {r.value for r in Refusals}


def test_core_store_and_api_raise_through_the_catalogue():
    inline = [f"{path}:{line}: {code}" for path, source in _sources(REFUSES_BY_NAME)
              for line, code in _inline_codes(source)]
    assert inline == []


def test_the_scan_finds_codes_written_inline():
    source = ('raise BusinessError("no_such_thing", "No.", "field", 404)\n'
              'raise ApplicationError("No.", type="also_not_there", non_retryable=True)\n'
              'raise refuse(Refusals.INVOICE_PAID, number="1")\n')
    assert _inline_codes(source) == [(1, "no_such_thing"), (2, "also_not_there")]


def test_each_member_is_its_code_with_a_sentence_and_a_refusal_status():
    assert len({r.value for r in Refusals}) == len(Refusals)
    for refusal in Refusals:
        assert refusal == refusal.value and Refusals(refusal.value) is refusal and refusal.value.islower()
        assert refusal.sentence.strip() and 400 <= refusal.status < 600
        list(string.Formatter().parse(refusal.sentence))   # a well-formed template


def test_refuse_fills_the_sentence_and_keeps_status_and_field():
    error = refuse(Refusals.INVOICE_PAID, "invoice", number="2026-0007")
    assert isinstance(error, BusinessError) and type(error.code) is str
    assert error.as_dict() == {"code": "invoice_paid", "message": "Invoice 2026-0007 is already paid; nothing is due.",
                               "field": "invoice"}
    assert error.status == 409
    assert refuse(Refusals.AMOUNT_INVALID, "amount", message="A payment must be more than zero.",
                  status=400).message == "A payment must be more than zero."
    assert refuse(Refusals.RATE_LIMITED, seconds=5, retry_after=5).retry_after == 5


def test_openapi_responses_document_each_code_under_its_status():
    docs = openapi_responses(Refusals.INVOICE_PAID, Refusals.INVOICE_DRAFT, Refusals.INVOICE_UNKNOWN)
    assert set(docs) == {404, 409}
    conflict = docs[409]["content"]["application/json"]
    assert conflict["schema"]["properties"]["code"]["enum"] == ["invoice_draft", "invoice_paid"]
    assert set(conflict["examples"]) == {"invoice_draft", "invoice_paid"}
    assert "invoice_unknown" in docs[404]["description"]


def test_each_refuse_call_fills_exactly_its_sentences_placeholders():
    wrong = []
    for path, source in _sources(PACKAGES):
        for node in ast.walk(ast.parse(source)):
            if not (isinstance(node, ast.Call) and _name(node.func) == "refuse" and node.args
                    and isinstance(node.args[0], ast.Attribute) and _name(node.args[0].value) == "Refusals"):
                continue
            keywords = {k.arg for k in node.keywords} - {"status", "retry_after"}
            if "message" in keywords:
                continue
            wanted = {name for _, name, _, _ in string.Formatter().parse(Refusals[node.args[0].attr].sentence) if name}
            if keywords != wanted:
                wrong.append(f"{path}:{node.lineno}: {node.args[0].attr} wants {sorted(wanted)}, has {sorted(keywords)}")
    assert wrong == []
