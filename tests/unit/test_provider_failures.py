"""Provider failures classified by what they mean: Enom error numbers and SMTP reply codes."""
from __future__ import annotations

import pytest

from providers.enom.protocol import classify_enom_error
from providers.mail.protocol import classify_smtp_reply


@pytest.mark.parametrize("number, texts, technical, kind", [
    # our account, not the domain: retried, staff alerted
    ("304155", ["Validation error; invalid ; loginid"], True, "credentials"),
    ("304156", ["Validation error; invalid ; password"], True, "credentials"),
    ("713254", ["User not permitted from this IP address"], True, "ip_not_allowed"),
    ("713254", ["Policy error; unauthorized; user(s)"], True, "ip_not_allowed"),
    ("413155", ["Authentication failed"], True, "credentials"),
    ("524181", ["Insufficient funds"], True, "balance"),
    ("519181", ["Failed to deduct from the account balance"], True, "balance"),
    ("514186", ["Payment declined"], True, "balance"),
    # Enom or the registry in trouble
    ("620397", ["System error"], True, "system"),
    ("600000", [], True, "system"),
    ("207153", ["Registry connection failed"], True, "connection_failed"),
    ("307153", [], True, "connection_failed"),
    ("218153", ["Registry down for maintenance"], True, "maintenance"),
    ("721153", ["Failed to process the order"], True, "failed_to_process"),
    ("099999", [], True, "unknown"),
    # the registry refusing the domain or the request itself: logical, an operator decides
    ("316154", ["Validation error; not active; domain name(s)"], False, "refused"),
    ("316153", ["Domain name not found"], False, "refused"),
    ("303197", ["The registration period cannot exceed 10 years."], False, "refused"),
    ("302153", ["Duplicate order"], False, "refused"),
    ("217153", ["Domain expired"], False, "refused"),
    ("304145", ["Registrant contact invalid"], False, "refused"),
    ("706153", ["Policy violation"], False, "refused"),
    # no number: only the account cases Enom words this way are technical
    ("", ["User not permitted from this IP address"], True, "ip_not_allowed"),
    ("", ["Validation error; invalid ; password"], True, "credentials"),
    ("", ["Domain name not found"], False, "refused"),
    ("", ["This domain has already been renewed within 24 hours; send OverrideOrder=1 to renew it again"],
     False, "refused"),
])
def test_enom_errors_are_classified_by_meaning(number, texts, technical, kind):
    verdict = classify_enom_error(number, texts)
    assert (verdict.technical, verdict.kind) == (technical, kind)


@pytest.mark.parametrize("code, technical", [
    (421, True), (450, True), (451, True), (452, True), (454, True),
    (500, False), (550, False), (551, False), (552, False), (553, False), (554, False),
])
def test_smtp_replies_4xx_are_technical_5xx_permanent(code, technical):
    assert classify_smtp_reply(code) == ("technical" if technical else "permanent")
