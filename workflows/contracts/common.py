"""Settings fixed into workflow inputs (so replays agree) and the refusal shape shared by all."""

from dataclasses import dataclass, field
from datetime import datetime

from core.clock import Calendar
from core.lifecycle import DEFAULT_LADDER


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


@dataclass
class Dunning:
    """When an unpaid invoice's reminders go out, relative to its due date, and when the client's
    services are suspended (0: never). Fixed into each run's input so replays agree."""
    before_days: int = 3
    overdue_days: list[int] = field(default_factory=lambda: [7, 14, 30])
    suspend_after_days: int = 45


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
