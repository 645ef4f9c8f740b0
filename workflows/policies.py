"""The retry and timeout options workflows give their activities: one name per kind of step, so a
change of policy is made once. Options are not part of a history: changing them replays."""
from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

# A step of an order's, an invoice's, a refund's or an account's life (the database, PayPal, mail):
# retried on a technical fault until it goes through, backing off to two minutes.
STEP = dict(
    start_to_close_timeout=timedelta(seconds=60),
    heartbeat_timeout=timedelta(seconds=10),
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=2)),
)

# A step of a long life (an address's years, a client's reminder digest): the same, backing off to
# five minutes, as such a run can wait out a provider's outage.
PATIENT_STEP = dict(
    start_to_close_timeout=timedelta(seconds=60),
    heartbeat_timeout=timedelta(seconds=10),
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5)),
)

# One chunk of the cPanel inventory: long, heartbeating, and given up after ten tries (the next
# scheduled sync starts afresh).
INVENTORY_STEP = dict(
    start_to_close_timeout=timedelta(minutes=10),
    heartbeat_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5), maximum_attempts=10),
)


def change_step(attempts: int) -> dict:
    """A customer's change at cPanel (and a look at the mailbox) has a way out: `attempts` tries on
    a technical fault, none on a refusal (the activity says which), then the next change goes."""
    return dict(
        start_to_close_timeout=timedelta(seconds=30),
        heartbeat_timeout=timedelta(seconds=10),
        retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                                 maximum_interval=timedelta(seconds=10), maximum_attempts=attempts),
    )
