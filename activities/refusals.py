"""A business refusal met in a store step, raised to Temporal as final: a refusal is an answer, so
retrying it would only meet it again (house idiom 4)."""
from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator

from temporalio.exceptions import ApplicationError

from core.errors import BusinessError


@asynccontextmanager
async def refusals_final() -> AsyncIterator[None]:
    """A BusinessError raised inside the block leaves it as a non-retryable ApplicationError of its code."""
    try:
        yield
    except BusinessError as exc:
        raise ApplicationError(exc.message, type=exc.code, non_retryable=True) from exc
