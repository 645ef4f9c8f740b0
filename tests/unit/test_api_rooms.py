"""The API's rooms as a caller meets them: the OpenAPI describes each JSON operation's answer and the
refusals it can give, and the invoice-line and promo rules the page and the JSON API share refuse
the same input the same way."""
from __future__ import annotations

from datetime import date

import pytest

from api.app import create_app
from api.services import invoice_lines, promo_input
from core.errors import BusinessError
from settings import Settings

SPEC = create_app(Settings(environment="development")).openapi()
OPERATIONS = [(method.upper(), path, op) for path, ops in SPEC["paths"].items() for method, op in ops.items()
              if path.startswith(("/api/v1/", "/webhooks/"))]
NO_JSON = {"GET /api/v1/invoices/{number}.pdf", "GET /api/v1/operator/exports/{kind}.csv"}


@pytest.mark.parametrize("method,path,op", OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS])
def test_every_json_operation_describes_its_answer_and_refusals(method, path, op):
    assert op.get("tags"), "a tag: the operation's room"
    success = {code: r for code, r in op["responses"].items() if code.startswith("2")}
    assert success
    for code, answer in success.items():
        if code != "204" and f"{method} {path}" not in NO_JSON:
            assert answer["content"]["application/json"]["schema"], (code, answer)
    refused = {code: r for code, r in op["responses"].items() if code[0] == "4"}
    assert "422" in refused and all(r["content"]["application/json"]["schema"]["$ref"].endswith("/Refusal")
                                    for r in refused.values())
    if method != "GET" and not path.startswith("/webhooks/"):   # a webhook proves itself by signature
        assert "`csrf_failed`" in refused.get("403", {}).get("description", ""), "a write needs the CSRF token"


def test_the_paypal_webhook_documents_its_rejections():
    rejected = SPEC["paths"]["/webhooks/paypal"]["post"]["responses"]["400"]["description"]
    assert all(f"`{code}`" in rejected for code in ("webhook_rejected", "webhook_stale", "webhook_replayed"))


def test_invoice_lines_one_rule_for_the_page_and_the_api():
    def refused(entry, field=invoice_lines.json_field):
        with pytest.raises(BusinessError) as err:
            invoice_lines.items([entry], "USD", field)
        return err.value.code, err.value.field

    line = invoice_lines.LineEntry("  Support,\tNovember  ", "3", "45.00", None, "2026-11-01", "2026-11-30")
    [item] = invoice_lines.items([line], "USD", invoice_lines.form_field)
    assert (item.line.description, item.line.quantity) == ("Support, November", 3)
    assert (item.period_start, item.period_end) == (date(2026, 11, 1), date(2026, 11, 30))
    assert invoice_lines.items([invoice_lines.LineEntry("x", "", "1.00")], "USD")[0].line.quantity == 1
    for quantity in ("0", "100001", "2147483648", "\u00b2", "ten", 0, 100_001):
        assert refused(invoice_lines.LineEntry("x", quantity, "1.00"), invoice_lines.form_field) == (
            "quantity_invalid", "quantity_0")
    assert refused(invoice_lines.LineEntry("x", 1, "1.00", None, date(2026, 11, 2), date(2026, 11, 1))) == (
        "period_invalid", "lines.0.period_end")
    assert refused(invoice_lines.LineEntry("x", 1, "1.00", None, "soon"), invoice_lines.form_field) == (
        "date_invalid", "period_start_0")


def test_promo_form_days_and_limits():
    rule = promo_input.rule_from_form({"code": "spring", "percent": "10", "starts_on": "2026-03-01",
                                       "ends_on": "2026-03-31", "max_uses": "5"}, [], "USD")
    assert (rule.starts_at.isoformat(), rule.ends_at.isoformat(), rule.max_uses) == (
        "2026-03-01T00:00:00+00:00", "2026-03-31T23:59:59+00:00", 5)
    for form, code in (({"max_uses": "9" * 20}, "promo_limit_invalid"), ({"max_uses": "\u00b2"}, "promo_limit_invalid"),
                       ({"starts_on": "March"}, "date_invalid")):
        with pytest.raises(BusinessError) as err:
            promo_input.rule_from_form({"code": "x", "percent": "10", **form}, [], "USD")
        assert err.value.code == code
