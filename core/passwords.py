"""The mailbox password policy: long enough, not guessable from the address, not a common password.
Length over composition rules, as NIST SP 800-63B advises."""
from __future__ import annotations

from core.refusals import Refusals, refuse

MIN_LENGTH = 10
MAX_LENGTH = 128
# The most common passwords of public breach lists, lower-cased; a longer list can be loaded later.
COMMON = frozenset("""
password password1 password12 password123 passw0rd 1234567890 12345678910 123456789a qwertyuiop
qwerty1234 qwerty12345 1q2w3e4r5t 1qaz2wsx3edc abcdefghij iloveyou12 letmein123 welcome123
changeme123 administrator football12 baseball12 sunshine12 princess12 dragon1234 monkey1234
trustno1234 superman12 starwars12 0987654321 1111111111 0000000000 asdfghjkl1 zxcvbnm123
""".split())


def check_mailbox_password(password: str, local_part: str, domain: str, field: str = "password") -> str:
    """Return the password if acceptable; otherwise a refusal that says what to change."""
    password = password or ""
    if not password:
        raise refuse(Refusals.PASSWORD_EMPTY, field)
    if len(password) < MIN_LENGTH:
        raise refuse(Refusals.PASSWORD_TOO_SHORT, field, min_length=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        raise refuse(Refusals.PASSWORD_TOO_LONG, field, max_length=MAX_LENGTH)
    if any(ord(c) < 32 or ord(c) == 127 for c in password):
        raise refuse(Refusals.PASSWORD_BAD_CHARACTERS, field)
    lowered = password.casefold()
    label = domain.split(".")[0].casefold()
    if (len(local_part) >= 3 and local_part.casefold() in lowered) or (len(label) >= 4 and label in lowered):
        raise refuse(Refusals.PASSWORD_GUESSABLE, field)
    if lowered in COMMON or len(set(password)) < 5:
        raise refuse(Refusals.PASSWORD_COMMON, field)
    return password
