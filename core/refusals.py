"""The refusal catalogue: every code a user (or a provider webhook) can be refused with, its default
sentence and HTTP status, as names; `refuse()` builds the BusinessError, `openapi_responses()` the
FastAPI `responses=` documentation. Codes are stable API: rename a member, never its string."""
from __future__ import annotations

from enum import StrEnum
from http import HTTPStatus
from typing import Any

from core.errors import BusinessError


class Refusals(StrEnum):
    """`Refusals.INVOICE_PAID == "invoice_paid"`; `.sentence` (a str.format template) and `.status`."""

    sentence: str
    status: int

    def __new__(cls, code: str, sentence: str, status: int = 422) -> Refusals:
        member = str.__new__(cls, code)
        member._value_ = code
        member.sentence = sentence
        member.status = status
        return member

    ACTION_INVALID = ("action_invalid", "Issue the draft or delete it.")
    ADDRESS_CLOSED = ("address_closed", "This address is no longer active.", 410)
    ADDRESS_EXISTS_ON_SERVER = (
        "address_exists_on_server",
        "{address} already exists on the cPanel account; it was not created by us.",
        409,
    )
    ADDRESS_INVALID = ("address_invalid", "An address looks like name@domain.")
    ADDRESS_NOT_ACTIVE = ("address_not_active", "{address} is {state}; try again once it is active.", 409)
    ADDRESS_NOT_FOUND = ("address_not_found", "There is no such address in your account.", 404)
    ADDRESS_NOT_RENEWABLE = ("address_not_renewable", "{address} is not one of your addresses ending by {until}.", 404)
    ADDRESS_NOT_YOURS = ("address_not_yours", "{address} is not one of your addresses.", 404)
    ADDRESS_REPEATED = ("address_repeated", "{address} is in the order twice.")
    ADDRESS_TAKEN = ("address_taken", "Someone else has just ordered one of these addresses.", 409)
    ADDRESS_UNAVAILABLE = ("address_unavailable", "{address} is not available.", 409)
    ALREADY_CANCELLED = ("already_cancelled", "{address} is already cancelled; it ends on {term_end}.")
    AMOUNT_INVALID = ("amount_invalid", "A unit price cannot be negative.")
    AMOUNT_MISMATCH = ("amount_mismatch", "The invoice is in {currency}.")
    BACKUP_SELF = ("backup_self", "a domain cannot be its own backup")
    BACKUP_UNKNOWN = (
        "backup_unknown",
        "Nothing was imported. Backup domains not in the portfolio or the file: {names}.",
    )
    BALANCE_INSUFFICIENT = ("balance_insufficient", "The credit balance is {current}; it cannot pay {amount}.", 409)
    BILLING_MODE_INVALID = (
        "billing_mode_invalid",
        "'{mode}' is not a billing mode; choose prepaid (pays before the service starts), postpaid (invoiced after, "
        "chased when late) or exempt (never invoiced).",
    )
    BODY_INVALID = ("body_invalid", "Write the reply (up to 10,000 characters).")
    CART_FULL = ("cart_full", "A cart holds at most {max_lines} addresses; check out or remove some.")
    CART_NOTHING_PICKED = ("cart_nothing_picked", "Tick at least one address to add.")
    CATEGORY_EMPTY = ("category_empty", "category is empty")
    CLIENT_EMAIL_MISSING = ("client_email_missing", "Enter the email address of the client.")
    CLIENT_UNKNOWN = ("client_unknown", "There is no client {client_id}.", 404)
    CODE_EXPIRED = (
        "code_expired",
        "This code was for the term of {address} ending on {term_end}; it can no longer be used.",
        410,
    )
    CODE_MALFORMED = ("code_malformed", "A renewal code has 12 letters and digits, like ABCD-EFGH-JKMN.")
    CODE_UNKNOWN = ("code_unknown", "That renewal code is not right; check it against the email.", 404)
    CODE_USED = ("code_used", "This code was already used: the renewal was {decision} on {decided_at:%Y-%m-%d}.", 409)
    COVERAGE_IMPOSSIBLE = ("coverage_impossible", "The registration cannot be extended to cover the term.", 409)
    CSRF_FAILED = ("csrf_failed", "Missing or wrong X-CSRF-Token header.", 403)
    CSV_COLUMNS = ("csv_columns", "The CSV needs the columns {columns}; missing: {missing}.")
    CSV_INVALID = ("csv_invalid", "Nothing was imported. {shown}")
    CURRENCY_MISMATCH = ("currency_mismatch", "Every line must be in {currency}.")
    DATE_IN_FUTURE = ("date_in_future", "A payment cannot arrive in the future.")
    DATE_INVALID = ("date_invalid", "'{raw}' is not a date like 2026-11-01.")
    DECISION_INVALID = ("decision_invalid", "Choose confirm or decline.")
    DESCRIPTION_MISSING = ("description_missing", "Every line needs a description.")
    DESTINATION_EMPTY = ("destination_empty", "Enter the address mail should be forwarded to.")
    DESTINATION_INVALID = ("destination_invalid", "Enter one email address, like you@example.com.")
    DESTINATION_LOOP = ("destination_loop", "An address cannot forward to itself.")
    DESTINATION_NOT_IN_USE = (
        "destination_not_in_use",
        "{destination} is not an address in use here; mail forwarded to it would bounce.",
    )
    DESTINATION_UNCHANGED = ("destination_unchanged", "{address} already forwards to {destination}.")
    DISCOUNT_INVALID = ("discount_invalid", "A discount must be between 0 and {gross}.")
    DOMAIN_EMPTY = ("domain_empty", "Choose a domain.")
    DOMAIN_INVALID = ("domain_invalid", "That domain name is too long.")
    DOMAIN_NOT_YOURS = ("domain_not_yours", "You do not manage reserved names at {domain_name}.", 404)
    DOMAIN_UNKNOWN = ("domain_unknown", "We do not sell addresses at {domain}.")
    DOMAINS_EMPTY = ("domains_empty", "Choose at least one domain.")
    DOMAINS_TOO_MANY = ("domains_too_many", "Check at most {max_domains} domains at once.")
    DRAFT_UNKNOWN = ("draft_unknown", "There is no draft invoice {invoice_id}.", 404)
    DUE_IN_PAST = ("due_in_past", "The due date cannot be before today.")
    DUPLICATE = ("duplicate", "{domain} is also on line {seen}")
    EMAIL_TAKEN = ("email_taken", "An account with this email already exists. Sign in instead.", 409)
    ENTRY_UNKNOWN = ("entry_unknown", "There is no such reserved entry.", 404)
    EXPORT_UNKNOWN = ("export_unknown", "Export one of: {names}.", 404)
    FORBIDDEN = ("forbidden", "Only the operator edits the global reserved list.", 403)
    FORM_INVALID = ("form_invalid", "The form could not be read: {detail}")
    HTTP_ERROR = ("http_error", "The request was refused.", 400)
    INTERVAL_INVALID = ("interval_invalid", "Give the hours between replies as a number.")
    INVOICE_CANCELLED = ("invoice_cancelled", "Invoice {number} is cancelled and cannot be paid.", 409)
    INVOICE_DRAFT = ("invoice_draft", "Invoice {number} is a draft and not yet due.", 409)
    INVOICE_NOT_DRAFT = (
        "invoice_not_draft",
        "Invoice {number} is issued and is never edited; cancel it with a credit note and issue a new one instead.",
        409,
    )
    INVOICE_NOT_FOUND = ("invoice_not_found", "There is no invoice {number} in your account.", 404)
    INVOICE_NOT_PAYABLE = ("invoice_not_payable", "Invoice {number} is not waiting for payment.", 409)
    INVOICE_PAID = ("invoice_paid", "Invoice {number} is already paid; nothing is due.", 409)
    INVOICE_PAID_BY_ORDER = ("invoice_paid_by_order", "Invoice {number} is paid on its order's page.", 409)
    INVOICE_REFUNDED = ("invoice_refunded", "Invoice {number} was refunded and cannot be paid.", 409)
    INVOICE_UNKNOWN = ("invoice_unknown", "There is no invoice {invoice_id}.", 404)
    KIND_INVALID = ("kind_invalid", "Choose a forwarder or a mailbox.")
    LADDER_INVALID = ("ladder_invalid", "'{text}' is not a reminder step like 3m or 15d.")
    LINES_MISSING = ("lines_missing", "An invoice needs at least one line.")
    LINES_TOO_MANY = ("lines_too_many", "An invoice holds at most {max_lines} lines.")
    LINK_EXPIRED = ("link_expired", "This link has expired; sign in with your password instead.", 410)
    LINK_INVALID = ("link_invalid", "This payment link is not valid; use the code again.", 404)
    LINK_SUPERSEDED = ("link_superseded", "A newer change was asked for since; this link no longer applies.", 410)
    LINK_USED = ("link_used", "This link has been used already; sign in with your password.", 410)
    LISTED_INVALID = ("listed_invalid", "listed must be yes or no, not {listed_text!r}")
    LOCAL_PART_BAD_CHARACTERS = ("local_part_bad_characters", "The name contains control characters.")
    LOCAL_PART_DOT_POSITION = ("local_part_dot_position", "A name cannot start or end with a dot.")
    LOCAL_PART_DOUBLE_DOT = ("local_part_double_dot", "A name cannot contain two dots in a row.")
    LOCAL_PART_EMPTY = ("local_part_empty", "Enter the name you want before the @.")
    LOCAL_PART_PLUS = ("local_part_plus", "A name cannot contain '+': it is kept for sub-addressing.")
    LOCAL_PART_TOO_LONG = ("local_part_too_long", "A name can have at most {local_max} characters.")
    LOGIN_FAILED = ("login_failed", "That email and password do not match an account.", 401)
    METHOD_INVALID = ("method_invalid", "Choose cheque or wire transfer.")
    METHOD_NOT_ALLOWED = ("method_not_allowed", "The request was refused.", 405)
    METHOD_UNAVAILABLE = ("method_unavailable", "Paying by {method} is not offered; please pay with PayPal.")
    NAME_EMPTY = ("name_empty", "Tell us your name.")
    NAMES_EMPTY = ("names_empty", "Enter at least one name.")
    NAMES_TOO_MANY = ("names_too_many", "Check at most {max_names} names at once.")
    NO_PAYPAL_PAYMENT = (
        "no_paypal_payment",
        "Invoice {number} was not paid through PayPal; give the money back as credit or by cheque instead.",
        409,
    )
    NOT_A_FORWARDER = ("not_a_forwarder", "Only a forwarder has a destination.", 409)
    NOT_A_MAILBOX = ("not_a_mailbox", "Only a mailbox has this setting.", 409)
    NOT_FOUND = ("not_found", "There is no such {what}.", 404)
    NOT_SIGNED_IN = ("not_signed_in", "Sign in first.", 401)
    ORDER_EMPTY = ("order_empty", "Choose at least one address to order.")
    ORDER_NOT_CANCELLABLE = ("order_not_cancellable", "Order {order_id} is {state}; it cannot be cancelled.", 409)
    ORDER_NOT_FOUND = ("order_not_found", "There is no such order in your account.", 404)
    ORDER_NOT_PAYABLE = ("order_not_payable", "Order {order_id} is {state}; there is nothing to pay on it here.", 409)
    ORDER_TOO_LARGE = ("order_too_large", "An order can hold at most {max_lines} addresses.")
    PASSWORD_BAD_CHARACTERS = ("password_bad_characters", "The password contains control characters.")
    PASSWORD_COMMON = ("password_common", "That password is too easy to guess; choose a less common one.")
    PASSWORD_EMPTY = ("password_empty", "Choose a password for the mailbox.")
    PASSWORD_GUESSABLE = ("password_guessable", "The password must not contain the address itself.")
    PASSWORD_MISSING = (
        "password_missing",
        "The password for {address} is no longer on file; the customer must set one.",
        409,
    )
    PASSWORD_TOO_LONG = ("password_too_long", "Use at most {max_length} characters.")
    PASSWORD_TOO_SHORT = ("password_too_short", "Use at least {min_length} characters for the mailbox password.")
    PATTERN_EMPTY = ("pattern_empty", "Enter a name or a prefix followed by *.")
    PATTERN_EXISTS = ("pattern_exists", "{pattern} is already on the {label} list.", 409)
    PAYMENT_DECLINED = (
        "payment_declined",
        "PayPal did not accept the payment; please approve it again, perhaps with another card.",
        409,
    )
    PAYMENT_REFERENCE_USED = (
        "payment_reference_used",
        "A {method} payment with reference {reference} is already recorded for another invoice.",
        409,
    )
    PAYMENT_UNAVAILABLE = ("payment_unavailable", "PayPal could not be reached; please try again.", 503)
    PAYPAL_UNKNOWN = ("paypal_unknown", "We could not match this PayPal payment to an order in your account.", 404)
    PERCENT_INVALID = ("percent_invalid", "A percentage is between 0 and 100.")
    PERIOD_INVALID = ("period_invalid", "A service period ends after it starts.")
    PROMO_CODE_EXISTS = ("promo_code_exists", "There is already a code {promo}.", 409)
    PROMO_CODE_INVALID = ("promo_code_invalid", "A promo code is 3 to 40 letters, digits, - or _.")
    PROMO_EXPIRED = ("promo_expired", "The code {promo} expired on {ends_at}.", 409)
    PROMO_INACTIVE = ("promo_inactive", "The code {promo} is no longer offered.", 409)
    PROMO_KIND_INVALID = ("promo_kind_invalid", "Unknown kind {unknown!r}: use forwarder or mailbox.")
    PROMO_LIMIT_INVALID = (
        "promo_limit_invalid",
        "A limit of uses is between 1 and {max_uses:,} (leave it out for none).",
    )
    PROMO_NOT_APPLICABLE = ("promo_not_applicable", "The code {promo} is only for {names}.", 409)
    PROMO_NOT_STARTED = ("promo_not_started", "The code {promo} can be used from {starts_at}.", 409)
    PROMO_UNKNOWN = ("promo_unknown", "There is no promo code {promo}.", 404)
    PROMO_USED_BY_YOU = (
        "promo_used_by_you",
        "You have already used the code {promo} {times}, as often as it allows.",
        409,
    )
    PROMO_USED_UP = ("promo_used_up", "The code {promo} has been used as many times as it may be.", 409)
    PROMO_VALUE_INVALID = ("promo_value_invalid", "Give either a percentage or a fixed amount off.")
    PROMO_WINDOW_INVALID = ("promo_window_invalid", "The code must end after it starts.")
    PROVIDER_REFUSED = ("provider_refused", "The mail server refused the change.", 409)
    PROVIDER_UNAVAILABLE = ("provider_unavailable", "The mail server did not answer, so the change was not made.", 503)
    QUANTITY_INVALID = ("quantity_invalid", "A line's quantity is between 1 and {max_quantity:,}.")
    RANGE_INVALID = ("range_invalid", "The end of the period is before its start.")
    RATE_LIMITED = ("rate_limited", "Too many checks; try again in {seconds} seconds.", 429)
    REASON_MISSING = ("reason_missing", "Say why the invoice is cancelled (it is printed on the credit note).")
    REFERENCE_MISSING = ("reference_missing", "Give the cheque number or the bank reference.")
    REFUND_EXCEEDS_CAPTURE = ("refund_exceeds_capture", "Only {amount} of this payment can still be refunded.", 409)
    REFUND_FAILED = ("refund_failed", "PayPal did not refund it: {detail}", 502)
    REFUND_REFUSED = ("refund_refused", "This refund cannot be made.", 409)
    RENEWAL_EMPTY = ("renewal_empty", "Choose at least one address to renew.")
    REQUEST_INVALID = ("request_invalid", "{field_name}: {detail}")
    ROWS_MISSING = ("rows_missing", "Give at least one payment.")
    ROWS_TOO_MANY = ("rows_too_many", "Record at most {max_bulk} payments at a time.")
    SERVICE_UNAVAILABLE = ("service_unavailable", "We could not send the email just now; please try again.", 503)
    STATUS_INVALID = ("status_invalid", "Filter by one of: {names}.")
    STILL_WORKING = (
        "still_working",
        "The mail server is slow to answer; the change is still on its way. Look again in a minute.",
        503,
    )
    STOP_IN_PAST = (
        "stop_in_past",
        "The reply would stop at {stop:%Y-%m-%d %H:%M} UTC, which is already past; give a time in the future, or "
        "none.",
    )
    STOP_TOO_FAR = ("stop_too_far", "An automatic reply can be set for up to ten years ahead.")
    SUBJECT_INVALID = ("subject_invalid", "Give the reply a subject (up to 200 characters).")
    TAX_RATE_INVALID = ("tax_rate_invalid", "A tax rate is between 0% and 100%.")
    TERM_BEYOND_REGISTRY = (
        "term_beyond_registry",
        "Renewing for {years} years would end on {new_end}, after the registry's 10-year limit; choose fewer years.",
    )
    TERM_NOT_ALLOWED = ("term_not_allowed", "Choose a renewal of {choices} years.")
    TEXT_INVALID = ("text_invalid", "{field_name}: control characters such as U+{char:04X} are not allowed.")
    TOO_MANY_ATTEMPTS = (
        "too_many_attempts",
        "Too many sign-in attempts {whose}; try again in {minutes} minute{plural}.",
        429,
    )
    USAGE_NOT_READ = (
        "usage_not_read",
        "How full the mailbox is has not been read from the mail server yet; please look again later.",
        503,
    )
    WEBHOOK_REJECTED = ("webhook_rejected", "Webhook rejected: the delivery is not provably from PayPal.", 400)
    WEBHOOK_REPLAYED = (
        "webhook_replayed",
        "Webhook rejected: this transmission was received before with another body.",
        400,
    )
    WEBHOOK_STALE = ("webhook_stale", "Webhook rejected: the transmission time is not recent.", 400)


def refuse(code: Refusals, field: str | None = None, *, message: str | None = None, status: int | None = None,
           retry_after: int | None = None, **fmt: Any) -> BusinessError:
    """The BusinessError for `code`: its sentence filled from `fmt` (or `message`, where one raise says
    more than the default), its status unless `status` says otherwise. Raise what it returns."""
    return BusinessError(code.value, message if message is not None else code.sentence.format(**fmt), field,
                         status if status is not None else code.status, retry_after)


def openapi_responses(*codes: Refusals) -> dict[int | str, dict[str, Any]]:
    """FastAPI's `responses=` for the refusals a route can answer: one entry per status, listing each
    code with its sentence, the body shaped `{code, message, field}`."""
    by_status: dict[int, list[Refusals]] = {}
    for code in codes:
        by_status.setdefault(code.status, []).append(code)
    return {
        status: {
            "description": f"{HTTPStatus(status).phrase}: "
                           + "; ".join(f"`{c.value}` ({c.sentence})" for c in sorted(members)),
            "content": {"application/json": {
                "schema": {"type": "object", "required": ["code", "message", "field"],
                           "properties": {"code": {"type": "string", "enum": [c.value for c in sorted(members)]},
                                          "message": {"type": "string"},
                                          "field": {"type": ["string", "null"]}}},
                "examples": {c.value: {"value": {"code": c.value, "message": c.sentence, "field": None}}
                             for c in sorted(members)}}},
        }
        for status, members in sorted(by_status.items())
    }
