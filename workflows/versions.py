"""Every way a workflow's code is versioned: each `workflow.patched` marker (its id, the histories that pin
its old and new path, the step it is at, when it may go), and the input fields whose defaults let runs
started before them replay. Pure data, importable from anywhere (workflows.contracts re-exports the ids).

A patch has a whole life (STYLE.md, idiom 12):

1. PATCHED — `if workflow.patched(ID): new else: old`; a history recorded before the change is committed
   (`old_path`) and one recorded after (`new_path`); both replay in tests/replay.
2. DEPRECATED — once no running workflow can still need the old path, the branch becomes
   `workflow.deprecate_patch(ID)` followed by the new code alone. Runs that took the new path carry the
   id in the `TemporalChangeVersion` search attribute; the runs that may still need the old path are the
   running ones of that type without it that were started before the patch was deployed:
   `temporal workflow list --query '<Patch.old_path_query()>'` (or the same filter in the Web UI's list)
   must answer nothing. The old-path histories then go from tests/replay/histories (they can no longer
   replay) and `step` says DEPRECATED.
3. REMOVED — once no running workflow has the marker either (every run that began before step 2 has
   closed: the same query with the id), the `deprecate_patch` call goes; the entry stays here, REMOVED,
   so the id is never reused.

An input field added with a default is the other mechanism: a history whose input lacks the field
decodes with the default and replays the behaviour it had. Such a field may only lose its default once
no such history (and no such run) is left; `DEFAULTS` lists which histories need each.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Step(StrEnum):
    PATCHED = "patched"
    DEPRECATED = "deprecated"
    REMOVED = "removed"


# The patch ids, as recorded in markers and TemporalChangeVersion: never change or reuse one.
LIFECYCLE_V3 = "lifecycle-v3-renewal-expiry"
BILLING_V4 = "billing-v4-invoices-receipts-partial-payments"
PAYPAL_TRUTH = "paypal-truth-read-back-per-attempt-keys"
PAYPAL_READ_BACK = "paypal-approval-read-back"
CHANGE_OUTCOMES = "change-outcomes-v1"
PAYMENT_CORE = "payment-core-invoice-owns-payment"


@dataclass(frozen=True)
class Patch:
    id: str
    workflows: tuple[str, ...]     # the workflow types whose code calls patched(id)
    step: Step
    new_path: str                  # what runs from the patch on do
    old_path_histories: tuple[str, ...]   # tests/replay/histories recorded before it: they replay the old branch
    new_path_histories: tuple[str, ...]   # recorded after it: they replay the new branch
    retire: str                    # when it may move to the next step

    def old_path_query(self, deployed_at: str = "<deploy time>") -> str:
        """The visibility query for runs that may still need the old path (must list nothing to deprecate)."""
        types = ", ".join(f"'{name}'" for name in self.workflows)
        return (f"WorkflowType IN ({types}) AND ExecutionStatus = 'Running' AND StartTime < '{deployed_at}' "
                f"AND (TemporalChangeVersion IS NULL OR TemporalChangeVersion NOT IN ('{self.id}'))")


PATCHES: tuple[Patch, ...] = (
    Patch(
        LIFECYCLE_V3, ("AddressWorkflow",), Step.PATCHED,
        "one run per term: renewal invoice, reminders, expiry, grace and quarantine; continue-as-new per term",
        ("address-v1.json", "address-v2.json"),
        ("address-v3-term1.json", "address-v4-term1.json", "address-v6-destination-refused.json",
         "address-v6-mailbox-refused.json"),   # a later term's run (address-v3/-v4.json) starts past the marker
        "an address run from before renewals lives to the end of its term (up to ten years): deprecate when "
        "the query lists no AddressWorkflow started before v3 (or each such address has been migrated by hand)",
    ),
    Patch(
        BILLING_V4, ("OrderWorkflow",), Step.PATCHED,
        "the invoice is issued first (credit applied, emailed with its PDF); receipts; partial manual payments",
        ("order-v1.json", "order-v2.json", "order-v3.json", "order-v3-renewal.json"),
        ("order-v4.json", "order-v4-renewal.json", "order-v5-exempt.json", "order-v5-postpaid.json",
         "order-v6-declined.json", "order-v6-pending.json", "order-paypal-read-back.json"),
        "an order run lives until paid or cancelled (its manual-payment deadline, 14 days by default): "
        "deprecate once the query lists no OrderWorkflow started before v4",
    ),
    Patch(
        PAYPAL_TRUTH, ("OrderWorkflow", "InvoiceWorkflow", "RefundWorkflow"), Step.PATCHED,
        "a reported capture is read back before it is taken (only COMPLETED pays, PENDING waits); one "
        "PayPal-Request-Id per capture attempt; a PENDING refund is waited for",
        ("order-v4.json", "order-v4-renewal.json", "order-v5-exempt.json", "order-v5-postpaid.json",
         "invoice-v4.json", "invoice-v5-postpaid.json", "refund-v4.json"),
        ("order-v6-declined.json", "order-v6-pending.json", "invoice-v6-hint.json", "refund-v6-pending.json"),
        "order and refund runs are short; an invoice run lives through dunning (to suspension, 45 days by "
        "default): deprecate once the query lists none of the three types started before v6",
    ),
    Patch(
        PAYPAL_READ_BACK, ("OrderWorkflow", "InvoiceWorkflow"), Step.PATCHED,
        "an approval a browser or webhook reports is read back (paypal_order_status) before capturing; "
        "anything but APPROVED (or COMPLETED) changes nothing",
        ("order-v6-declined.json", "order-v6-pending.json", "invoice-v6-hint.json"),
        ("order-paypal-read-back.json", "invoice-paypal-read-back.json"),
        "as PAYPAL_TRUTH: deprecate once the query lists no order or invoice run started before it",
    ),
    Patch(
        CHANGE_OUTCOMES, ("AddressWorkflow",), Step.PATCHED,
        "a change at cPanel that fails for good is recorded in AddressState.last_change and the next goes",
        (),   # none: before it a failed change was retried for ever, so no old run ever took that branch
        ("address-v6-destination-refused.json", "address-v6-mailbox-refused.json"),
        "the marker is only written when a change fails, so TemporalChangeVersion does not tell old runs "
        "apart: deprecate once no AddressWorkflow run started before it is still running (each term is a "
        "new run, so at most one term after the deploy)",
    ),
    Patch(
        PAYMENT_CORE, ("OrderWorkflow",), Step.PATCHED,
        "the order hands its invoice to an InvoiceWorkflow child (invoice:<number>, the order's deadlines in "
        "its input) and waits for paid, cancelled or expired; every payment message goes to that invoice "
        "(the API's gateway routes older runs to the order in one function, legacy_payment_route)",
        ("order-v4.json", "order-v4-renewal.json", "order-v6-declined.json", "order-v6-pending.json",
         "order-paypal-read-back.json"),   # an order on account (postpaid, exempt) never asks: no payment to hand on
        ("order-v7-paypal.json", "order-v7-manual.json", "order-v7-cancelled.json", "order-v7-renewal.json"),
        "an order run lives until paid or cancelled (its manual-payment deadline, 14 days by default; a "
        "renewal to the end of its grace): deprecate once the query lists no OrderWorkflow started before "
        "it; then legacy_payment_route in api/temporal.py and the order's own payment branch go too",
    ),
)


@dataclass(frozen=True)
class Default:
    """An input field whose default stands in for a version: histories without it decode to `default`."""

    field: str                     # Payload.field (dotted for a nested payload)
    default: str
    means: str                     # what a run without the field does
    histories: tuple[str, ...]     # committed histories whose input lacks it


DEFAULTS: tuple[Default, ...] = (
    Default("AddressLine.quota_mb", "0", "a forwarder, or a mailbox with cPanel's default quota",
            ("order-v1.json", "address-v1.json")),
    Default("OrderInput.hold_minutes", "0", "no PayPal hold timer", ("order-v1.json",)),
    Default("OrderInput.manual_deadline_days", "14", "a cheque or wire is awaited 14 days", ("order-v1.json",)),
    Default("OrderInput.life", "None", "the lifecycle settings' defaults (workflows.contracts.Lifecycle())",
            ("order-v1.json", "order-v2.json")),
    Default("OrderInput.renewal", "False", "a new order, not a renewal", ("order-v1.json", "order-v2.json")),
    Default("OrderInput.deadline_at", "None", "the deadline from manual_deadline_days",
            ("order-v1.json", "order-v2.json")),
    Default("OrderInput.pay_from_balance", "False", "the credit balance is not tried first",
            ("order-v1.json", "order-v2.json")),
    Default("OrderInput.billing", '"prepaid"', "paid before the addresses start (no on-account path)",
            ("order-v1.json", "order-v2.json", "order-v3.json", "order-v3-renewal.json", "order-v4.json",
             "order-v4-renewal.json")),
    Default("OrderInput.dunning", "None", "no dunning plan (prepaid)",
            ("order-v1.json", "order-v2.json", "order-v3.json", "order-v3-renewal.json", "order-v4.json",
             "order-v4-renewal.json")),
    Default("OrderInput.invoice_due_at", "None", "no due date (prepaid)",
            ("order-v1.json", "order-v2.json", "order-v3.json", "order-v3-renewal.json", "order-v4.json",
             "order-v4-renewal.json")),
    Default("AddressInput.life", "None", "the lifecycle settings' defaults", ("address-v1.json", "address-v2.json")),
    Default("AddressInput.carry", "None", "the first term (nothing carried from a renewal)",
            ("address-v1.json", "address-v2.json")),
)


def patch(patch_id: str) -> Patch:
    return next(p for p in PATCHES if p.id == patch_id)
