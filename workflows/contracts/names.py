"""Task queue, search attributes, workflow/message names and workflow-id helpers: what the API
addresses workflows by without importing their code."""

from temporalio.common import SearchAttributeKey

# The patch ids live with their plan in workflows.versions; re-exported for the workflows that import them here.
from workflows.versions import (  # noqa: F401
    BILLING_V4,
    CHANGE_OUTCOMES,
    LIFECYCLE_V3,
    PAYMENT_CORE,
    PAYPAL_READ_BACK,
    PAYPAL_TRUTH,
)


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


CHOOSE_MANUAL = "choose_manual_payment"  # update on OrderWorkflow (and an order's InvoiceWorkflow) -> ManualInstructions


RECORD_MANUAL = "record_manual_payment"  # update on OrderWorkflow (operators) -> OrderState


PAYMENT_CONFIRMED = "payment_confirmed"  # signal on AddressWorkflow


ORDER_CANCELLED = "order_cancelled"    # signal on AddressWorkflow


RETRY = "retry"                        # signal on AddressWorkflow (operators)


MAILBOX_PASSWORD = "mailbox_password_changed"   # signal on AddressWorkflow: a sealed new password waits


SET_AUTORESPONDER = "set_autoresponder"          # update on AddressWorkflow -> AutoresponderState


MAILBOX_USAGE = "mailbox_usage"                  # retired update on AddressWorkflow (kept for replay)


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
# CAPTURE_DENIED, as the order workflow does; an order's invoice (PAYMENT_CORE) also CHOOSE_MANUAL,
# RECORD_MANUAL and PAY_WITH_CREDIT (-> OrderState), with the payloads the order workflow takes
ORDER_PAYMENT_STATE = "order_payment_state"   # query on InvoiceWorkflow (an order's invoice) -> OrderState
INVOICE_SETTLED = "invoice_settled"   # signal on OrderWorkflow from its invoice (InvoiceSettled): act on it
INVOICE_RELEASED = "invoice_released"  # signal on InvoiceWorkflow from its order: acted on, the invoice may close


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


def refund_workflow_id(invoice_number: str, key: str) -> str:
    return f"refund:{invoice_number}:{key}"


def invoice_workflow_id(number: str) -> str:
    return f"invoice:{number}"
