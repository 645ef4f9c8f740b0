"""Every setting mailmarket reads, from the environment (or .env); nothing else reads os.environ."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.clock import Calendar
from core.billing import parse_tax_rate
from core.lifecycle import DEFAULT_LADDER, parse_ladder
from core.money import Money
from core.pricing import PriceList
from store.invoicing import InvoiceTerms, Seller
from workflows.contracts import Dunning, Lifecycle

ROOT = Path(__file__).resolve().parent
# Published in this repository, so they protect nothing: accepted only with ENVIRONMENT=development.
DEV_SESSION_SECRET = "dev-only-change-me-0123456789abcdef"
DEV_SECRETS_KEY = "dev-only-secrets-key-change-me-0123456789"
SECRET_MIN_BYTES = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # storage and orchestration
    database_url: str = f"sqlite:///{ROOT / 'var' / 'mailmarket.db'}"
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = "mailmarket"

    # "development" (set by `make run`) accepts the built-in keys; anything else is production and
    # refuses to start without SESSION_SECRET and SECRETS_KEY of its own
    environment: Literal["development", "production"] = "production"

    # the public site
    public_base_url: str = "http://127.0.0.1:8000"
    session_secret: SecretStr = SecretStr(DEV_SESSION_SECRET)
    # seals mailbox passwords between checkout and provisioning; API and worker must share it
    secrets_key: SecretStr = SecretStr(DEV_SECRETS_KEY)
    cookie_secure: bool = False
    operator_emails: list[str] = Field(default_factory=lambda: ["operator@mailmarket.test"])

    # what we sell
    currency: str = "USD"
    forwarder_price_per_year: str = "12.00"
    mailbox_price_per_year: str = "30.00"
    forwarder_terms: list[int] = Field(default_factory=lambda: list(range(1, 11)))
    mailbox_terms: list[int] = Field(default_factory=lambda: list(range(1, 11)))
    mailbox_quota_mb: int = 1024
    coverage_margin_days: int = 30
    inventory_sync_minutes: int = 60
    checks_per_minute_per_ip: int = 30
    checks_per_minute_per_client: int = 60
    trust_forwarded_for: bool = False   # true only behind a proxy that sets X-Forwarded-For
    # failed sign-ins allowed within the window, per address tried and per network (IP)
    sign_in_failures_per_account: int = 5
    sign_in_failures_per_ip: int = 30
    sign_in_window_minutes: int = 15
    portfolio_cache_seconds: float = 30.0
    grid_max_names: int = 10
    grid_max_domains: int = 20
    paypal_approval_minutes: int = 180
    checkout_hold_minutes: int = 30       # held while the customer picks how to pay
    manual_payment_days: int = 14         # cheque or wire: time for the money to arrive
    # Cheque is offered only with a payee name and postal address, wire only with a payee name and
    # bank details: nothing is shown to customers that the operator has not set.
    payee_name: str = ""
    payee_postal_address: str = ""
    bank_details: str = ""
    workflow_status_timeout_s: float = 2.0

    # invoices
    invoice_number_format: str = "{year}-{seq:06d}"   # gapless per year: 2026-000123
    default_tax_rate: str = "0"                       # percent, e.g. "20" or "7.25"; a client's own rate wins
    seller_name: str = "mailmarket"
    seller_address: str = ""
    seller_tax_id: str = ""
    # an operator's own invoices: when due, and how they are chased
    custom_invoice_due_days: int = 14
    postpaid_due_days: int = 30                  # a post-paid client's invoice (order or renewal) is due this much later
    dunning_before_days: int = 3                 # a reminder this many days before the due date (0: none)
    dunning_overdue_days: list[int] = Field(default_factory=lambda: [7, 14, 30])   # 1st, 2nd, 3rd overdue
    dunning_suspend_after_days: int = 45         # days overdue before the client's addresses are suspended (0: never)

    # after the sale: reminders, renewal, expiry
    reminder_ladder: list[str] = Field(default_factory=lambda: list(DEFAULT_LADDER))
    reminder_hour_utc: float = 9.0
    digest_window_minutes: float = 10.0
    renewal_invoice_days: int = 30
    renewal_window_months: int = 3        # the renewal page lists addresses ending this soon
    grace_days: int = 30
    quarantine_days: int = 90
    # Demo only: a day lasts this many seconds (0: real days), counted from DEMO_EPOCH, so a
    # walkthrough shows reminders, renewal and expiry in minutes. Production leaves both unset.
    demo_day_seconds: float = 0.0
    demo_epoch: datetime | None = None

    # a notification refused for a technical reason (4yz, SMTP down) is retried this long from its
    # first attempt, then recorded failed on /operator/mail so the workflow that sent it goes on
    mail_give_up_hours: float = 24.0

    # cPanel (UAPI over https://host:2083/execute)
    cpanel_url: str = "http://127.0.0.1:8102"
    cpanel_user: str = "mailmkt"
    cpanel_token: SecretStr = SecretStr("SANDBOXCPANELTOKEN")

    # Enom reseller API
    enom_url: str = "http://127.0.0.1:8103/interface.asp"
    enom_uid: str = "mailmkt"
    enom_pw: SecretStr = SecretStr("sandbox-enom-token")

    # PayPal REST
    paypal_url: str = "http://127.0.0.1:8104"
    paypal_client_id: str = "sandbox-client"
    paypal_secret: SecretStr = SecretStr("sandbox-secret")
    paypal_webhook_id: str = "WHSANDBOX0001"
    paypal_cert_hosts: list[str] = Field(default_factory=lambda: ["127.0.0.1", "localhost"])
    # a webhook transmitted longer ago than this (or this far ahead of our clock) is refused
    paypal_webhook_max_age_seconds: int = 900
    paypal_webhook_max_ahead_seconds: int = 300

    # outgoing mail
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    mail_from: str = "mailmarket <hello@mailmarket.test>"
    webmail_url: str = "https://webmail.mailmarket.test"
    mail_server_host: str = "mail.mailmarket.test"
    site_name: str = "mailmarket"

    # demo conveniences for `make run`
    temporal_db_file: str = str(ROOT / "var" / "temporal.db")
    sandbox_mail_viewer_url: str = "http://127.0.0.1:8105"
    temporal_ui_url: str = "http://127.0.0.1:8233"
    temporal_http_port: int = 7243       # the dev server's HTTP API (it would pick a random port)
    temporal_metrics_port: int = 7235    # the dev server's /metrics (it would pick a random port)

    @model_validator(mode="after")
    def _secrets_fit_the_environment(self) -> "Settings":
        if self.environment == "development":
            return self
        for name, value, published in (("SESSION_SECRET", self.session_secret, DEV_SESSION_SECRET),
                                       ("SECRETS_KEY", self.secrets_key, DEV_SECRETS_KEY)):
            secret = value.get_secret_value()
            if secret == published:
                raise ValueError(f"{name} is the published development key; set a random one of at least "
                                 f"{SECRET_MIN_BYTES} bytes (python -c 'import secrets; print(secrets.token_urlsafe(48))'), "
                                 "or ENVIRONMENT=development on a developer's machine")
            if len(secret.encode()) < SECRET_MIN_BYTES:
                raise ValueError(f"{name} must be at least {SECRET_MIN_BYTES} bytes in production")
        return self

    def lifecycle(self) -> Lifecycle:
        parse_ladder(self.reminder_ladder)   # a bad ladder fails at start-up, not on a reminder day
        demo = self.demo_day_seconds > 0 and self.demo_epoch is not None
        return Lifecycle(reminder_ladder=list(self.reminder_ladder), reminder_hour=self.reminder_hour_utc,
                         digest_window_minutes=self.digest_window_minutes,
                         renewal_invoice_days=self.renewal_invoice_days, grace_days=self.grace_days,
                         quarantine_days=self.quarantine_days,
                         day_seconds=self.demo_day_seconds if demo else 0.0,
                         epoch=self.demo_epoch if demo else None,
                         site_url=self.public_base_url.rstrip("/") + "/renewals")

    def invoice_terms(self, client=None) -> InvoiceTerms:
        """How a client's invoices are numbered and taxed (their own rate, else the default)."""
        own = getattr(client, "tax_bp", None)
        return InvoiceTerms(own if own is not None else parse_tax_rate(self.default_tax_rate, "default_tax_rate"),
                            self.invoice_number_format)

    def dunning(self) -> Dunning:
        if any(d < 1 for d in self.dunning_overdue_days) or self.dunning_before_days < 0 \
                or self.dunning_suspend_after_days < 0:
            raise ValueError("dunning days are positive (0 switches the reminder before or the suspension off)")
        return Dunning(self.dunning_before_days, sorted(self.dunning_overdue_days), self.dunning_suspend_after_days)

    def seller(self) -> Seller:
        return Seller(self.seller_name, self.seller_address, self.seller_tax_id)

    def terms_for(self, kind: str) -> list[int]:
        """The terms (years) an address of this kind may be bought or renewed for."""
        return self.mailbox_terms if kind == "mailbox" else self.forwarder_terms

    def prices(self) -> PriceList:
        return PriceList(Money.parse(self.forwarder_price_per_year, self.currency),
                         Money.parse(self.mailbox_price_per_year, self.currency))

    def calendar(self) -> Calendar:
        return self.lifecycle().calendar()

    @property
    def async_database_url(self) -> str:
        """The same database through an asyncio driver: aiosqlite for SQLite, psycopg 3 for PG."""
        url = self.database_url
        if url.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + url[len("sqlite:///"):]
        if url.startswith("postgresql://"):
            return "postgresql+psycopg://" + url[len("postgresql://"):]
        return url

    @property
    def sync_database_url(self) -> str:
        url = self.database_url
        if url.startswith("postgresql://"):
            return "postgresql+psycopg://" + url[len("postgresql://"):]
        return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
