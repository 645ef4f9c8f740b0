"""Asking a workflow something that can be refused: an update, its validator's or handler's
refusal turned into a BusinessError with the same code and sentence."""
from __future__ import annotations

import logging
from datetime import timedelta

from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from core.errors import BusinessError

log = logging.getLogger(__name__)


async def run_update(handle: WorkflowHandle, name: str, arg, result_type, *, closed: BusinessError):
    """`closed` is the refusal when the workflow no longer runs (or cannot be reached)."""
    try:
        return await handle.execute_update(name, arg, result_type=result_type, rpc_timeout=timedelta(seconds=30))
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        while cause is not None and not isinstance(cause, ApplicationError):
            cause = cause.cause
        if isinstance(cause, ApplicationError):
            # A validator names the field at fault as the refusal's detail: the input was wrong (422),
            # else the change could not be made as things are (409).
            field = cause.details[0] if cause.details and isinstance(cause.details[0], str) else None
            raise BusinessError(cause.type or closed.code, cause.message, field,
                                status=422 if field else 409) from None
        raise BusinessError("service_unavailable", "That did not go through; please try again.", status=503) from None
    except RPCError as exc:
        log.warning("update %s on %s failed: %s", name, handle.id, exc)
        if exc.status == RPCStatusCode.DEADLINE_EXCEEDED:
            raise BusinessError("still_working", "The mail server is slow to answer; the change is still on its "
                                "way. Look again in a minute.", status=503, retry_after=60) from None
        raise closed from None
