"""AddressWorkflow's input, messages, state and its activities' payloads (provisioning, mailbox,
destination, suspension, removal)."""

from dataclasses import dataclass, field
from datetime import date, datetime

from workflows.contracts.common import Lifecycle


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
class RetryRequest:
    actor: str = "operator"
    note: str = ""


@dataclass
class ChangeOutcome:
    """How a customer's change at cPanel ended: `what` is autoresponder, password or destination;
    a failure keeps its refusal code and the sentence the customer is shown."""
    what: str
    ok: bool
    code: str = ""
    message: str = ""
    at: datetime | None = None


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
    last_change: ChangeOutcome | None = None    # the latest customer change at cPanel, and how it went


# A customer's change at cPanel is tried this many times on a technical fault, then given up as
# failed (and said so): nothing queued behind it waits for ever.
CHANGE_ATTEMPTS = 5


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
