"""Manual payments as people enter them: the customer choosing cheque or wire (with what to write
on it and where to send it), an operator recording one that arrived. The order's workflow decides."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from api.services.checkout import Checkout
from core.refusals import Refusals, refuse
from core.money import Money
from core.statuses import MANUAL_METHODS, PaymentMethod
from settings import Settings
from store import audit
from store.models import Client
from workflows.contracts import ManualInstructions, ManualPayment, OrderState

@dataclass(frozen=True)
class HowToPay:
    method: str
    amount: str
    reference: str
    pay_to: str
    details: str
    deadline: str

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def how_to_pay(settings: Settings, instructions: ManualInstructions) -> HowToPay:
    details = (settings.payee_postal_address if instructions.method == PaymentMethod.CHEQUE else settings.bank_details)
    return HowToPay(instructions.method, Money(instructions.amount_minor, instructions.currency).display(),
                    instructions.reference, settings.payee_name, details,
                    instructions.deadline.isoformat(timespec="minutes"))


def offered_methods(settings: Settings) -> list[str]:
    """The manual methods the operator has configured: cheque needs where to send it, wire the bank."""
    if not settings.payee_name.strip():
        return []
    return [m for m, detail in ((PaymentMethod.CHEQUE, settings.payee_postal_address),
                                (PaymentMethod.WIRE, settings.bank_details))
            if detail.strip()]


def parse_method(raw: str) -> str:
    """A manual method an operator records (whatever the customer was offered)."""
    method = (raw or "").strip().lower()
    if method not in MANUAL_METHODS:
        raise refuse(Refusals.METHOD_INVALID, "method")
    return method


def customer_method(raw: str, settings: Settings) -> str:
    """A manual method a customer may choose: one the operator has set up."""
    method = parse_method(raw)
    if method not in offered_methods(settings):
        raise refuse(Refusals.METHOD_UNAVAILABLE, "method",
                     method="cheque" if method == PaymentMethod.CHEQUE else "wire transfer")
    return method


def parse_received_on(raw: str, today: date) -> date:
    try:
        received = date.fromisoformat((raw or "").strip())
    except ValueError:
        raise refuse(Refusals.DATE_INVALID, "received_on",
                     message="Give the date the payment arrived as YYYY-MM-DD.") from None
    if received > today:
        raise refuse(Refusals.DATE_IN_FUTURE, "received_on")
    return received


def manual_payment(operator: Client, *, method: str, amount: str, currency: str, reference: str, received_on: str,
                   today: date) -> ManualPayment:
    """An operator's entry, checked field by field (the workflow then checks it against what is due)."""
    reference = " ".join((reference or "").split())[:100]
    if not reference:
        raise refuse(Refusals.REFERENCE_MISSING, "reference")
    return ManualPayment(parse_method(method), Money.parse(amount, currency).minor, currency, reference,
                         parse_received_on(received_on, today), f"operator:{operator.id}")


async def record(checkout: Checkout, operator: Client, order_id: int, *, method: str, amount: str, currency: str,
                 reference: str, received_on: str, today: date) -> OrderState:
    async with audit.refusals(checkout.sessions, f"operator:{operator.id}", "payment", "order", order_id,
                              method=method, amount=amount, reference=reference, received_on=received_on):
        payment = manual_payment(operator, method=method, amount=amount, currency=currency, reference=reference,
                                 received_on=received_on, today=today)
        return await checkout.record_manual(order_id, payment)


def recorded_sentence(state: OrderState, method: str, amount: str, reference: str, currency: str,
                      due_before: int | None = None) -> str:
    """What an operator is told once a cheque or wire is recorded: it, what the order still needs,
    and what went beyond what was due (kept as the client's credit)."""
    received = Money.parse(amount, currency)
    what = f"{parse_method(method).capitalize()} {' '.join(reference.split())[:100]} for {received.display()}"
    # runs from before partial payments took exact amounts only: nothing is left when they answer
    left = state.due_minor or 0
    rest = f"{Money(left, currency).display()} still due" if left else "paid in full"
    over = received.minor - due_before if due_before is not None and not left else 0
    extra = f"; {Money(over, currency).display()} more than was due is now the client's credit" if over > 0 else ""
    return f"{what} recorded on order {state.order_id}; {rest}{extra}."
