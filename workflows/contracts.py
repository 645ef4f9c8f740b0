"""Every payload, workflow id, search attribute and message name shared by API, worker and tests."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from temporalio.common import SearchAttributeKey

from core.clock import Calendar, utc
from core.lifecycle import DEFAULT_LADDER

DEFAULT_TASK_QUEUE = "mailmarket"

# Registered on the Temporal server (`temporal server start-dev --search-attribute ...`) so
# operators can filter in the Web UI: MailmarketStatus="attention" AND MailmarketDomain="x.org".
SA_CLIENT = SearchAttributeKey.for_keyword("MailmarketClient")
SA_DOMAIN = SearchAttributeKey.for_keyword("MailmarketDomain")
SA_STATUS = SearchAttributeKey.for_keyword("MailmarketStatus")
SEARCH_ATTRIBUTES = (SA_CLIENT, SA_DOMAIN, SA_STATUS)


# Names the API uses to start, signal, update and query workflows without importing their code.
ORDER_WORKFLOW = "OrderWorkflow"
ADDRESS_WORKFLOW = "AddressWorkflow"
BEGIN_PAYPAL = "begin_paypal"          # update on OrderWorkflow -> PayPalCheckout
PAYPAL_APPROVED = "paypal_approved"    # signal on OrderWorkflow
CAPTURE_REPORTED = "capture_reported"  # signal on OrderWorkflow
CANCEL_ORDER = "cancel"                # signal on OrderWorkflow
CAPTURE_DENIED = "capture_denied"      # signal on OrderWorkflow (PayPal: a pending capture failed)
CHOOSE_MANUAL = "choose_manual_payment"  # update on OrderWorkflow -> ManualInstructions
RECORD_MANUAL = "record_manual_payment"  # update on OrderWorkflow (operators) -> OrderState
PAYMENT_CONFIRMED = "payment_confirmed"  # signal on AddressWorkflow
ORDER_CANCELLED = "order_cancelled"    # signal on AddressWorkflow
RETRY = "retry"                        # signal on AddressWorkflow (operators)
MAILBOX_PASSWORD = "mailbox_password_changed"   # signal on AddressWorkflow: a sealed new password waits
SET_AUTORESPONDER = "set_autoresponder"          # update on AddressWorkflow -> AutoresponderState
MAILBOX_USAGE = "mailbox_usage"                  # update on AddressWorkflow -> MailboxUsageState
DESTINATION_REQUESTED = "destination_requested"  # signal on AddressWorkflow: email the new destination
DESTINATION_CONFIRMED = "destination_confirmed"  # signal on AddressWorkflow: the link was followed
CANCEL_AT_TERM_END = "cancel_at_term_end"        # update on AddressWorkflow -> AddressState
RENEWAL_DECIDED = "renewal_decided"              # signal on AddressWorkflow: confirmed or declined (staff told)
PAY_WITH_CREDIT = "pay_with_credit"    # update on OrderWorkflow -> OrderState: the credit balance pays
STATE = "state"                        # query on both
REFUND_WORKFLOW = "RefundWorkflow"
INVOICE_WORKFLOW = "InvoiceWorkflow"     # an operator's own invoice: issue, dunning, payment
RECORD_INVOICE_PAYMENT = "record_invoice_payment"   # update on InvoiceWorkflow -> InvoiceState
CANCEL_INVOICE = "cancel_invoice"        # signal on InvoiceWorkflow (CancelRequest)
PAY_INVOICE_WITH_CREDIT = "pay_invoice_with_credit"   # update on InvoiceWorkflow -> InvoiceState
# InvoiceWorkflow also takes BEGIN_PAYPAL (-> PayPalCheckout), PAYPAL_APPROVED, CAPTURE_REPORTED and
# CAPTURE_DENIED, as the order workflow does, for invoices chased by their own workflow
# Order runs from here on email the invoice when it is issued (credit applied first), a receipt for
# every payment, and take partial payments; runs started before keep their exact-amount path.
BILLING_V4 = "billing-v4-invoices-receipts-partial-payments"
# Runs from here on read a PayPal order back (`paypal_order_status`) before capturing on an approval
# they were told of (a browser's return, a webhook): one PayPal has not approved changes nothing.
PAYPAL_READ_BACK = "paypal-approval-read-back"
# PayPal webhooks are hints: runs from here on read a reported capture back from PayPal before
# taking it (only COMPLETED pays, PENDING waits), key each capture attempt of a PayPal order apart
# (a re-approval after INSTRUMENT_DECLINED is a new request), and keep waiting on a PENDING refund.
PAYPAL_TRUTH = "paypal-truth-read-back-per-attempt-keys"
PAYPAL_EVENT_WORKFLOW = "PayPalEventWorkflow"   # `paypal-event:<event id>`: a refund, reversal or dispute event
REFUND_CHANGED = "refund_changed"        # signal on RefundWorkflow: PayPal says a pending refund moved
REFUND_STATE = "refund_state"            # query on RefundWorkflow -> RefundOutcome | None (PayPal's first answer)
DIGEST_WORKFLOW = "ReminderDigestWorkflow"
REMINDER_QUEUED = "reminder_queued"    # signal on ReminderDigestWorkflow (signal-with-start)
INVENTORY_WORKFLOW = "CpanelInventorySyncWorkflow"
ACCOUNT_EMAIL_WORKFLOW = "AccountEmailWorkflow"   # one email about an account (sign-up), sent once per key
INVENTORY_SCHEDULE_ID = "cpanel-inventory-sync"


def address_workflow_id(address: str) -> str:
    return f"address:{address}"


def account_email_workflow_id(key: str) -> str:
    return f"account-email:{key}"


def order_workflow_id(order_id: int) -> str:
    return f"order:{order_id}"


def paypal_event_workflow_id(event_id: str) -> str:
    return f"paypal-event:{event_id}"


def digest_workflow_id(client_id: int) -> str:
    return f"reminders:{client_id}"


@dataclass
class Lifecycle:
    """The operator's settings an address lives by, fixed into each run's input so replays agree."""
    reminder_ladder: list[str] = field(default_factory=lambda: list(DEFAULT_LADDER))
    reminder_hour: float = 9.0               # UTC hour a reminder day's digest goes out
    digest_window_minutes: float = 10.0      # reminders of one client queued this close make one digest
    renewal_invoice_days: int = 30
    grace_days: int = 30
    quarantine_days: int = 90
    day_seconds: float = 0.0                 # demo only: a day lasting seconds (0: real days)
    epoch: datetime | None = None            # demo only: when the shortened calendar began
    site_url: str = ""                       # where an expired address's bounce says to renew

    def calendar(self) -> Calendar:
        return Calendar(self.day_seconds, self.epoch)


# ---- workflow inputs -------------------------------------------------------------------------

@dataclass
class AddressLine:
    subscription_id: int
    address: str
    local_part: str
    domain: str
    kind: str
    years: int
    destination: str
    client_id: int
    client_email: str
    client_name: str
    quota_mb: int = 0          # mailboxes; added after v1 histories, hence the default


def address_line(sub, client, years: int, quota_mb: int = 0) -> "AddressLine":
    """An order line for a stored subscription (duck-typed: workflows do not import the store)."""
    return AddressLine(subscription_id=sub.id, address=sub.address, local_part=sub.local_part,
                       domain=sub.domain.name, kind=sub.kind, years=years, destination=sub.destination,
                       client_id=client.id, client_email=client.email, client_name=client.name,
                       quota_mb=quota_mb if sub.kind == "mailbox" else 0)


def renewal_order_input(order, invoice, client, lines: list["AddressLine"], *, deadline_at: datetime,
                        life: "Lifecycle", pay_from_balance: bool, coverage_margin_days: int = 30,
                        search_attributes: bool = True, dunning: "Dunning | None" = None) -> "OrderInput":
    """A renewal order's input; `invoice` is None for an exempt client (and `order.billing` says so)."""
    return OrderInput(order_id=order.id, client_id=client.id, client_email=client.email, client_name=client.name,
                      invoice_id=invoice.id if invoice else 0, invoice_number=invoice.number if invoice else "",
                      total_minor=order.total_minor, currency=order.currency, lines=lines, payment_deadline_minutes=0,
                      coverage_margin_days=coverage_margin_days, search_attributes=search_attributes,
                      life=life, renewal=True, deadline_at=deadline_at, pay_from_balance=pay_from_balance,
                      billing=order.billing, dunning=dunning if order.billing == "postpaid" else None,
                      invoice_due_at=utc(invoice.due_at) if invoice and order.billing == "postpaid" else None)


@dataclass
class Dunning:
    """When an unpaid invoice's reminders go out, relative to its due date, and when the client's
    services are suspended (0: never). Fixed into each run's input so replays agree."""
    before_days: int = 3
    overdue_days: list[int] = field(default_factory=lambda: [7, 14, 30])
    suspend_after_days: int = 45


@dataclass
class OrderInput:
    order_id: int
    client_id: int
    client_email: str
    client_name: str
    invoice_id: int
    invoice_number: str
    total_minor: int
    currency: str
    lines: list[AddressLine]
    payment_deadline_minutes: int          # PayPal: from the moment PayPal checkout begins
    coverage_margin_days: int = 30
    search_attributes: bool = True
    # Added after v1 histories: 0 there means "one deadline from placing the order" as before.
    hold_minutes: int = 0                   # held this long while the customer picks how to pay
    manual_deadline_days: int = 14          # cheque or wire: from the moment it is chosen
    # Added with renewals (v3): a renewal order pays for addresses already running; it waits for
    # its money until `deadline_at` (the end of the grace period) and may be paid from credit.
    life: Lifecycle | None = None
    renewal: bool = False
    deadline_at: datetime | None = None
    pay_from_balance: bool = False
    # Added with billing modes (v5): a postpaid order starts its addresses at once and hands its
    # invoice (due `invoice_due_at`) to an invoice workflow chasing it by `dunning`; an exempt order
    # has no invoice (invoice_id 0, number "") and starts them at once. Earlier runs: prepaid.
    billing: str = "prepaid"
    dunning: Dunning | None = None
    invoice_due_at: datetime | None = None


@dataclass
class RenewalPaid:
    order_id: int
    years: int


@dataclass
class TermCarry:
    """What a renewed address carries into its next run (continue-as-new per term)."""
    term_start: date
    term_end: date
    destination: str
    domain_expiry: date | None
    covered: bool
    renewals: list[RenewalPaid] = field(default_factory=list)   # paid while the run was closing
    terms: int = 1


@dataclass
class AddressInput:
    line: AddressLine
    order_id: int
    coverage_margin_days: int = 30
    search_attributes: bool = True
    life: Lifecycle | None = None            # None in runs started before v3: the defaults
    carry: TermCarry | None = None           # set when a renewal continues the workflow


# ---- signals and updates ---------------------------------------------------------------------

@dataclass
class BeginPayPal:
    return_url: str
    cancel_url: str


@dataclass
class PayPalCheckout:
    paypal_order_id: str
    approve_url: str


@dataclass
class PayPalApproved:
    paypal_order_id: str


@dataclass
class CaptureReported:
    paypal_order_id: str
    capture_id: str
    amount_minor: int
    currency: str


@dataclass
class PaymentConfirmed:
    order_id: int
    paid_at: datetime
    reference: str
    years: int = 0          # a renewal order's payment: extend by this many years


@dataclass
class CancelAtTermEnd:
    actor: str
    reason: str = ""


@dataclass
class RenewalDecision:
    decision: str           # confirmed | declined (declined: no more reminders, it expires at term end)
    actor: str
    via: str = "page"       # page | code


@dataclass
class CancelRequest:
    reason: str
    actor: str = "system"


@dataclass
class RetryRequest:
    actor: str = "operator"
    note: str = ""


# ---- query results ---------------------------------------------------------------------------

@dataclass
class OrderState:
    order_id: int
    status: str                  # awaiting_payment | capturing | declined | paid | cancelled | attention
    paypal_order_id: str = ""
    approve_url: str = ""
    message: str = ""
    method: str = ""                         # paypal | cheque | wire | credit, once chosen
    deadline: datetime | None = None         # unpaid by then: cancelled, addresses released
    due_minor: int | None = None             # what is still due (partial payments); None: the total
    issued: bool = True                      # the invoice is issued, credit applied: what is due is known


@dataclass
class CaptureDenied:
    paypal_order_id: str
    capture_id: str


@dataclass
class ChooseManual:
    method: str                              # cheque | wire


@dataclass
class ManualInstructions:
    method: str
    reference: str                           # the invoice number, to write on the cheque or transfer
    amount_minor: int
    currency: str
    deadline: datetime


@dataclass
class ManualPayment:
    """An operator's record of a cheque or wire received: part of what is due, all of it, or more
    (the rest becomes credit). Runs from before BILLING_V4 take exactly the invoice's amount."""
    method: str
    amount_minor: int
    currency: str
    reference: str                           # cheque number or bank reference
    received_on: date
    actor: str


@dataclass
class AddressState:
    address: str
    status: str     # pending_payment | provisioning | active | attention | cancelled | expired | quarantined | released
    destination: str = ""
    term_start: date | None = None
    term_end: date | None = None
    domain_expiry: date | None = None
    message: str = ""
    cancel_at_term_end: bool = False
    renewal_declined: bool = False
    grace_until: date | None = None
    quarantine_until: date | None = None
    renewal_order_id: int | None = None
    last_change: "ChangeOutcome | None" = None    # the latest customer change at cPanel, and how it went


@dataclass
class ChangeOutcome:
    """How a customer's change at cPanel ended: `what` is autoresponder, password or destination;
    a failure keeps its refusal code and the sentence the customer is shown."""
    what: str
    ok: bool
    code: str = ""
    message: str = ""
    at: datetime | None = None


# A customer's change at cPanel is tried this many times on a technical fault, then given up as
# failed (and said so): nothing queued behind it waits for ever.
CHANGE_ATTEMPTS = 5


# ---- activity payloads -----------------------------------------------------------------------

@dataclass
class CreatePayPalOrder:
    order_id: int
    invoice_number: str
    description: str
    amount_minor: int
    currency: str
    return_url: str
    cancel_url: str
    request_id: str
    reference: str = ""          # PayPal's reference_id/custom_id; "" -> the order id (an invoice: its number)


@dataclass
class PayPalOrderRef:
    paypal_order_id: str


@dataclass
class CapturePayPalOrder:
    order_id: int
    paypal_order_id: str
    request_id: str


@dataclass
class CaptureResult:
    capture_id: str
    status: str                  # PayPal's: COMPLETED | PENDING | DECLINED | FAILED ...; NOT_FOUND (not at PayPal)
    amount_minor: int
    currency: str


@dataclass
class ConfirmCapture:
    """Read a capture back from PayPal (a webhook only hints at it); `capture_id` "" -> the order's."""
    paypal_order_id: str
    capture_id: str


@dataclass
class PayPalEvent:
    """A verified PayPal event that is not a checkout's: a refund, a reversal, a dispute. Only its
    type and the resource's id are trusted as far as to look the resource up."""
    event_id: str
    event_type: str
    resource_id: str


@dataclass
class PayPalEventOutcome:
    outcome: str                             # what was recorded, kept on the webhook event for operators
    notify: SendNotification | None = None   # staff to tell (reversals, disputes)
    wake_refund: str = ""                    # a pending refund's workflow to look again


@dataclass
class RecordPayPalOrder:
    order_id: int
    paypal_order_id: str


@dataclass
class RecordPayment:
    order_id: int
    method: str
    amount_minor: int
    currency: str
    reference: str
    received_at: datetime
    actor: str = "system"


@dataclass
class CancelOrder:
    order_id: int
    reason: str
    actor: str = "system"


@dataclass
class EnsureCoverage:
    domain: str
    required_until: date
    today: date


@dataclass
class CoverageResult:
    expiry: date
    covered: bool
    extended_years: int = 0


@dataclass
class ProvisionForwarder:
    address: str
    destination: str


@dataclass
class ProvisionMailbox:
    """The password is not here: the activity reads it sealed from the database (store.secrets)."""
    subscription_id: int
    address: str
    quota_mb: int


@dataclass
class RemoveMailbox:
    address: str


@dataclass
class DestinationRequest:
    change_id: int
    new_destination: str


@dataclass
class MailboxPasswordChanged:
    actor: str


@dataclass
class SetMailboxPassword:
    subscription_id: int
    address: str
    actor: str


@dataclass
class Autoresponder:
    """Set (enabled) or clear (not enabled) a mailbox's automatic reply."""
    enabled: bool
    subject: str = ""
    body: str = ""
    interval_hours: int = 24
    start: datetime | None = None
    stop: datetime | None = None
    actor: str = ""


@dataclass
class ApplyAutoresponder:
    address: str
    from_name: str
    reply: Autoresponder


@dataclass
class MailboxRef:
    address: str


@dataclass
class MailboxUsageState:
    used_mb: float
    quota_mb: int | None
    autoresponder_subject: str = ""


@dataclass
class DestinationConfirmation:
    change_id: int


@dataclass
class DestinationCheck:
    """Email the new destination a confirmation link (the activity derives the link's token)."""
    change_id: int
    address: str
    new_destination: str
    client_name: str


@dataclass
class SwitchForwarder:
    change_id: int
    address: str
    old_destination: str
    new_destination: str


@dataclass
class RemoveForwarder:
    address: str
    destination: str


@dataclass
class ActivateSubscription:
    subscription_id: int
    term_start: date
    term_end: date
    renewed: bool = False


@dataclass
class SuspendAddress:
    """Expired: a forwarder bounces with `message`; a mailbox cannot log in (its mail is kept)."""
    address: str
    kind: str
    destination: str
    message: str


@dataclass
class RestoreAddress:
    address: str
    kind: str
    destination: str
    message: str              # the bounce text set when it was suspended


@dataclass
class RemoveAddress:
    """End of grace: take the address off cPanel, whatever state suspension left it in."""
    address: str
    kind: str
    destination: str
    message: str


@dataclass
class MarkCancelAtTermEnd:
    subscription_id: int
    actor: str
    reason: str


@dataclass
class QueueReminder:
    subscription_id: int
    client_id: int
    term_end: date
    threshold: str
    due_on: date
    life: Lifecycle


@dataclass
class DigestInput:
    client_id: int
    life: Lifecycle


@dataclass
class DigestRequest:
    client_id: int
    day: date


@dataclass
class DigestResult:
    outcome: str              # sent | nothing | already_today
    addresses: int = 0


@dataclass
class OpenRenewal:
    subscription_id: int
    term_end: date
    years: int
    deadline_at: datetime
    life: Lifecycle


@dataclass
class RenewalOpened:
    order: OrderInput | None  # None: an open or paid renewal already covers this term


@dataclass
class PayFromBalance:
    order_id: int
    only_with_auto_renew: bool = True


@dataclass
class CloseRenewalOrders:
    subscription_id: int
    reason: str


@dataclass
class SetSubscriptionStatus:
    subscription_id: int
    status: str
    reason: str = ""
    actor: str = "system"
    until: date | None = None        # expired: grace ends; quarantined: quarantine ends


@dataclass
class SendNotification:
    key: str                         # business key: the same key is never sent twice
    template: str                    # templates/emails/<template>.txt|.html
    to: str
    client_id: int | None
    context: dict[str, str] = field(default_factory=dict)
    to_staff: bool = False           # also (or only, when `to` is empty) to the operators


@dataclass
class InventorySyncInput:
    chunk_size: int = 50


@dataclass
class InventoryChunk:
    domains: list[str]


@dataclass
class InventorySyncResult:
    domains: int = 0
    forwarders: int = 0
    mailboxes: int = 0


# ---- names API and operators use -------------------------------------------------------------

class Refusal:
    """ApplicationError types a workflow or activity raises for business refusals."""

    PAYMENT_DECLINED = "payment_declined"
    AMOUNT_MISMATCH = "amount_mismatch"
    ORDER_NOT_PAYABLE = "order_not_payable"
    ADDRESS_EXISTS_ON_SERVER = "address_exists_on_server"
    COVERAGE_IMPOSSIBLE = "coverage_impossible"
    PROVIDER_REFUSED = "provider_refused"          # cPanel answered UAPI status 0
    PROVIDER_UNAVAILABLE = "provider_unavailable"  # cPanel did not answer, attempt after attempt
    PASSWORD_MISSING = "password_missing"
    DESTINATION_LOOP = "destination_loop"          # a switch that would now send mail round in a circle


# ---- billing (v4) ---------------------------------------------------------------------------

@dataclass
class IssueInvoice:
    """Apply the client's credit (when they let it) and email the invoice with its PDF."""
    order_id: int
    credit_key: str                  # the credit payment's key, so a retry pays once


@dataclass
class PaymentApplied:
    invoice_number: str
    applied_minor: int
    overpaid_minor: int              # became credit
    outstanding_minor: int           # still due
    paid_in_full: bool
    reference: str = ""              # the payment's reference ("" when nothing was paid)


@dataclass
class PayWithCredit:
    actor: str


@dataclass
class PayFromCredit:
    order_id: int
    key: str
    actor: str = "system"


@dataclass
class SendReceipt:
    """A receipt for one payment, with the invoice PDF as it stands after it."""
    invoice_number: str
    method: str
    reference: str
    to: str
    client_id: int
    name: str


@dataclass
class RefundInput:
    """An operator's refund of (part of) an invoice's PayPal capture; `key` (the workflow id) is the
    idempotency key PayPal sees."""
    key: str
    invoice_number: str
    amount_minor: int
    currency: str
    reason: str
    actor: str


@dataclass
class RefundReserved:
    refund_id: int
    capture_id: str
    status: str                      # requested | completed | failed (a retried start)


@dataclass
class RefundOutcome:
    refund_id: int
    status: str                      # completed | pending (PayPal still processing) | failed | refused (we said no)
    paypal_refund_id: str = ""
    message: str = ""
    code: str = ""


def refund_workflow_id(invoice_number: str, key: str) -> str:
    return f"refund:{invoice_number}:{key}"


# ---- custom invoices and dunning ------------------------------------------------------------

@dataclass
class InvoiceInput:
    invoice_id: int
    number: str
    client_id: int
    client_email: str
    client_name: str
    total_minor: int
    currency: str
    due_at: datetime
    dunning: Dunning = field(default_factory=Dunning)


@dataclass
class InvoiceState:
    number: str
    status: str                      # unpaid | paid | cancelled
    due_minor: int
    reminders: int = 0               # dunning emails sent
    suspended: bool = False          # the client's services, for this invoice
    message: str = ""
    paypal_order_id: str = ""        # a PayPal checkout begun for it
    approve_url: str = ""


@dataclass
class IssueCustomInvoice:
    invoice_id: int
    credit_key: str


@dataclass
class InvoiceCredit:
    """Pay what the client's credit balance can of an invoice, under `key` (once per attempt)."""
    invoice_id: int
    key: str
    actor: str


@dataclass
class InvoicePayPalOrder:
    invoice_id: int
    paypal_order_id: str


@dataclass
class InvoicePayment:
    invoice_id: int
    method: str
    amount_minor: int
    currency: str
    reference: str
    received_at: datetime
    actor: str


@dataclass
class DunningNotice:
    invoice_id: int
    step: str                        # upcoming | overdue
    level: int                       # 0 before the due date, then 1, 2, 3...
    to: str
    client_id: int
    name: str
    count: int                       # this is the invoice's n-th notice
    suspend_on: date | None = None   # told in the last overdue notice


@dataclass
class ServiceLine:
    subscription_id: int
    address: str
    kind: str
    destination: str


@dataclass
class ClientServices:
    client_id: int
    suspended: bool                  # set (True) or lift (False) the client's debt suspension
    invoice_number: str


@dataclass
class CancelCustomInvoice:
    invoice_id: int
    reason: str
    actor: str


def invoice_workflow_id(number: str) -> str:
    return f"invoice:{number}"
