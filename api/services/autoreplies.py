"""An automatic reply as the mailbox page and the JSON API ask for it (the address's workflow
checks the rest, against its own clock, before anything is queued)."""
from __future__ import annotations

from api.services.mailboxes import parse_when
from core.refusals import Refusals, refuse
from workflows.contracts import Autoresponder


def reply(subject: str, body: str, interval_hours: int | str, start: str | None, stop: str | None) -> Autoresponder:
    try:
        interval = int(interval_hours)
    except ValueError:
        raise refuse(Refusals.INTERVAL_INVALID, "interval_hours") from None
    return Autoresponder(True, subject, body, interval, parse_when(start, "start"), parse_when(stop, "stop"))


def off() -> Autoresponder:
    return Autoresponder(False)
