"""Reminder digests and renewal opening: payloads of ReminderDigestWorkflow and its activities."""

from dataclasses import dataclass, field
from datetime import date, datetime

from workflows.contracts.common import Lifecycle
from workflows.contracts.order import OrderInput


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
