"""Composition root: settings -> clients -> activity instances -> Temporal Worker."""
from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from activities.billing import BillingActivities
from activities.inventory import InventoryActivities
from activities.destinations import DestinationActivities
from activities.ledger import LedgerActivities
from activities.lifecycle import ExpiryActivities, RenewalActivities
from activities.notifications import EmailRenderer, NotificationActivities
from activities.payments import PaymentActivities
from activities.paypal_events import PayPalEventActivities
from activities.provisioning import ProvisioningActivities
from activities.registry import RegistryActivities
from providers.cpanel.client import CpanelClient
from providers.enom.client import EnomClient
from providers.mail.client import SmtpMailer
from providers.paypal.client import PayPalClient
from settings import Settings, get_settings
from store.db import make_engine, make_sessionmaker
from store.secrets import SecretBox
from workflows.account import AccountEmailWorkflow
from workflows.address import AddressWorkflow
from workflows.refund import RefundWorkflow
from workflows.invoice import InvoiceWorkflow
from workflows.contracts import INVENTORY_SCHEDULE_ID, InventorySyncInput
from workflows.inventory import CpanelInventorySyncWorkflow
from workflows.order import OrderWorkflow
from workflows.paypal_events import PayPalEventWorkflow
from workflows.reminders import ReminderDigestWorkflow

log = logging.getLogger("mailmarket.worker")
WORKFLOWS = [OrderWorkflow, AddressWorkflow, CpanelInventorySyncWorkflow, ReminderDigestWorkflow, RefundWorkflow,
             InvoiceWorkflow, AccountEmailWorkflow, PayPalEventWorkflow]


async def connect(settings: Settings) -> Client:
    return await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace,
                                data_converter=pydantic_data_converter)


@asynccontextmanager
async def build_activities(settings: Settings, temporal: Client | None = None):
    """Every activity callable, wired to real clients; closes them on exit. `temporal` is the
    client the lifecycle steps signal other workflows with (the worker's own)."""
    engine = make_engine(settings.async_database_url)
    sessions = make_sessionmaker(engine)
    cpanel = CpanelClient(settings.cpanel_url, settings.cpanel_user, settings.cpanel_token.get_secret_value())
    enom = EnomClient(settings.enom_url, settings.enom_uid, settings.enom_pw.get_secret_value())
    paypal = PayPalClient(settings.paypal_url, settings.paypal_client_id, settings.paypal_secret.get_secret_value())
    mailer = SmtpMailer(settings.smtp_host, settings.smtp_port, settings.mail_from, starttls=settings.smtp_starttls,
                        username=settings.smtp_username, password=settings.smtp_password.get_secret_value())
    renderer = EmailRenderer({"site_name": settings.site_name, "site_url": settings.public_base_url,
                              "webmail_url": settings.webmail_url, "imap_host": settings.mail_server_host,
                              "smtp_host": settings.mail_server_host})
    ledger = LedgerActivities(sessions)
    payments = PaymentActivities(paypal)
    paypal_events = PayPalEventActivities(paypal, sessions, settings.public_base_url)
    provisioning = ProvisioningActivities(cpanel, sessions, SecretBox(settings.secrets_key.get_secret_value()))
    stock = InventoryActivities(cpanel, sessions)
    notifications = NotificationActivities(mailer, sessions, renderer,
                                           mail_domain=urlsplit(settings.public_base_url).hostname or "mailmarket",
                                           staff=settings.operator_emails,
                                           give_up_after=timedelta(hours=settings.mail_give_up_hours))
    registry = RegistryActivities(enom, sessions, alerts=notifications)

    def temporal_client() -> Client:
        if temporal is None:
            raise RuntimeError("this worker was built without a Temporal client")
        return temporal

    prices = settings.prices()
    renewal = RenewalActivities(sessions, notifications, temporal_client,
                                secret=settings.secrets_key.get_secret_value(), base_url=settings.public_base_url,
                                task_queue=settings.task_queue,
                                prices={"forwarder": prices.forwarder_per_year, "mailbox": prices.mailbox_per_year},
                                quota_mb=settings.mailbox_quota_mb, coverage_margin_days=settings.coverage_margin_days,
                                terms_for=settings.invoice_terms, seller=settings.seller(),
                                postpaid_due_days=settings.postpaid_due_days, dunning=settings.dunning())
    expiry = ExpiryActivities(cpanel)
    money = BillingActivities(sessions, notifications, paypal, seller=settings.seller(),
                              base_url=settings.public_base_url)
    changes = DestinationActivities(cpanel, sessions, notifications, settings.secrets_key.get_secret_value(),
                                    settings.public_base_url)
    try:
        yield [
            ledger.record_paypal_order, ledger.record_payment, ledger.cancel_order,
            ledger.activate_subscription, ledger.set_subscription_status,
            payments.create_paypal_order, payments.capture_paypal_order, payments.paypal_order_status, payments.confirm_paypal_capture,
            paypal_events.settle_paypal_event,
            provisioning.provision_forwarder, provisioning.remove_forwarder,
            provisioning.provision_mailbox, provisioning.remove_mailbox,
            provisioning.set_mailbox_password, provisioning.apply_autoresponder, provisioning.mailbox_usage,
            registry.ensure_domain_coverage,
            notifications.send_notification,
            changes.send_destination_check, changes.switch_forwarder,
            stock.portfolio_domains, stock.sync_cpanel_inventory,
            renewal.open_renewal, renewal.pay_from_balance, renewal.close_renewal_orders,
            renewal.mark_cancel_at_term_end, renewal.queue_reminder, renewal.send_reminder_digest,
            expiry.suspend_address, expiry.restore_address, expiry.remove_address,
            money.issue_invoice, money.apply_payment, money.pay_from_credit, money.pay_invoice_from_credit,
            money.send_receipt,
            money.reserve_refund, money.refund_at_paypal, money.settle_refund, money.check_paypal_refund,
            money.issue_custom_invoice, money.apply_invoice_payment, money.send_dunning_notice,
            money.set_client_suspended, money.cancel_custom_invoice, money.record_invoice_paypal_order,
        ]
    finally:
        for client in (cpanel, enom, paypal):
            await client.aclose()
        await engine.dispose()


async def ensure_schedules(client: Client, settings: Settings) -> None:
    """Create the recurring schedules once; an existing schedule is left as operators set it."""
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(CpanelInventorySyncWorkflow.run, InventorySyncInput(),
                                           id="cpanel-inventory-sync-run", task_queue=settings.task_queue),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(minutes=settings.inventory_sync_minutes))]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    try:
        await client.create_schedule(INVENTORY_SCHEDULE_ID, schedule, trigger_immediately=True)
    except ScheduleAlreadyRunningError:
        pass


def build_worker(client: Client, settings: Settings, activities: list) -> Worker:
    return Worker(client, task_queue=settings.task_queue, workflows=WORKFLOWS, activities=activities)


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    client = await connect(settings)
    async with build_activities(settings, client) as activities:
        await ensure_schedules(client, settings)
        worker = build_worker(client, settings, activities)
        log.info("worker polling task queue %s on %s", settings.task_queue, settings.temporal_address)
        await worker.run()


if __name__ == "__main__":
    asyncio.run(main())
