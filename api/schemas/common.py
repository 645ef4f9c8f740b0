"""What every refusal answers ({code, message, field}) and the OpenAPI `responses` naming the
refusal codes an operation can answer, grouped by status."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from core.refusals import Refusals

# The status each refusal code is answered with, from the one catalogue (core.refusals); a code it does
# not know is documented as 409.
STATUS: dict[str, int] = {refusal.value: refusal.status for refusal in Refusals}


class Refusal(BaseModel):
    """A refusal: its stable code, the sentence to show, and the field it is about (if one)."""
    code: str
    message: str
    field: str | None = None


def refusals(*codes: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for an operation: each status it may refuse with, naming the codes."""
    by_status: dict[int, list[str]] = {}
    for code in ("request_invalid", *codes):
        by_status.setdefault(STATUS.get(code, 409), []).append(code)
    return {status: {"model": Refusal, "description": "Refused: " + ", ".join(f"`{c}`" for c in found)}
            for status, found in sorted(by_status.items())}


SIGNED_IN = ("not_signed_in",)
WRITE = ("not_signed_in", "csrf_failed")
OPERATOR = ("not_signed_in", "forbidden")
OPERATOR_WRITE = ("not_signed_in", "csrf_failed", "forbidden")
