"""What every refusal answers ({code, message, field}) and the OpenAPI `responses` naming the
refusal codes an operation can answer, grouped by status."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel

# The status each refusal code is answered with (core.errors.BusinessError carries it; this table only
# documents it, and a code it does not know is documented as 409). Kept to the codes written today.
STATUS: dict[str, int] = {
    "action_invalid": 422, "address_closed": 410, "address_invalid": 422, "address_not_active": 409,
    "address_not_found": 404, "address_not_renewable": 404, "address_not_yours": 404, "address_repeated": 422,
    "address_taken": 409, "amount_invalid": 422, "backup_self": 422, "backup_unknown": 422,
    "balance_insufficient": 409, "billing_mode_invalid": 422, "cart_full": 422, "cart_nothing_picked": 422,
    "category_empty": 422, "client_unknown": 404, "code_expired": 410, "code_malformed": 422, "code_unknown":
    404, "code_used": 409, "csrf_failed": 403, "csv_columns": 422, "csv_invalid": 422, "currency_mismatch": 422,
    "date_in_future": 422, "date_invalid": 422, "decision_invalid": 422, "description_missing": 422,
    "destination_empty": 422, "destination_invalid": 422, "destination_loop": 422, "destination_not_in_use":
    422, "destination_unchanged": 422, "discount_invalid": 422, "domain_empty": 422, "domain_invalid": 422,
    "domain_not_yours": 404, "domain_unknown": 422, "domains_empty": 422, "domains_too_many": 422,
    "draft_unknown": 404, "due_in_past": 422, "duplicate": 422, "email_taken": 409, "entry_unknown": 404,
    "export_unknown": 404, "forbidden": 403, "form_invalid": 422, "interval_invalid": 422, "invoice_cancelled":
    409, "invoice_draft": 409, "invoice_not_draft": 409, "invoice_not_found": 404, "invoice_not_payable": 409,
    "invoice_paid": 409, "invoice_paid_by_order": 409, "invoice_refunded": 409, "invoice_unknown": 404,
    "kind_invalid": 422, "ladder_invalid": 422, "lines_missing": 422, "lines_too_many": 422, "link_expired":
    410, "link_invalid": 404, "link_superseded": 410, "link_used": 410, "listed_invalid": 422,
    "local_part_bad_characters": 422, "local_part_dot_position": 422, "local_part_double_dot": 422,
    "local_part_empty": 422, "local_part_plus": 422, "local_part_too_long": 422, "login_failed": 401,
    "method_invalid": 422, "method_unavailable": 422, "name_empty": 422, "names_empty": 422, "names_too_many":
    422, "no_paypal_payment": 409, "not_found": 404, "not_signed_in": 401, "order_empty": 422,
    "order_not_cancellable": 409, "order_not_found": 404, "order_not_payable": 409, "order_too_large": 422,
    "password_bad_characters": 422, "password_common": 422, "password_empty": 422, "password_guessable": 422,
    "password_too_long": 422, "password_too_short": 422, "pattern_empty": 422, "pattern_exists": 409,
    "payment_reference_used": 409, "payment_unavailable": 503, "paypal_unknown": 404, "percent_invalid": 422,
    "period_invalid": 422, "promo_code_exists": 409, "promo_code_invalid": 422, "promo_expired": 409,
    "promo_inactive": 409, "promo_kind_invalid": 422, "promo_limit_invalid": 422, "promo_not_applicable": 422,
    "promo_not_started": 409, "promo_unknown": 404, "promo_used_by_you": 409, "promo_used_up": 409,
    "promo_value_invalid": 422, "promo_window_invalid": 422, "quantity_invalid": 422, "range_invalid": 422,
    "rate_limited": 429, "reason_missing": 422, "reference_missing": 422, "refund_exceeds_capture": 409,
    "refund_failed": 502, "renewal_empty": 422, "request_invalid": 422, "rows_missing": 422, "rows_too_many":
    422, "service_unavailable": 503, "status_invalid": 422, "still_working": 503, "tax_rate_invalid": 422,
    "term_beyond_registry": 422, "term_not_allowed": 422, "text_invalid": 422, "too_many_attempts": 429,
}


class Refusal(BaseModel):
    """A refusal: its stable code, the sentence to show, and the field it is about (if one)."""
    code: str
    message: str
    field: str | None = None


def refusals(*codes: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for an operation: each status it may refuse with, naming the codes."""
    by_status: dict[int, list[str]] = {}
    for code in ("request_invalid", *codes):
        by_status.setdefault(STATUS.get(code, 409), []).append(code)
    return {status: {"model": Refusal, "description": "Refused: " + ", ".join(f"`{c}`" for c in found)}
            for status, found in sorted(by_status.items())}


SIGNED_IN = ("not_signed_in",)
WRITE = ("not_signed_in", "csrf_failed")
OPERATOR = ("not_signed_in", "forbidden")
OPERATOR_WRITE = ("not_signed_in", "csrf_failed", "forbidden")
