"""Asking a workflow something that can be refused: an update, its validator's or handler's
refusal turned into a BusinessError with the same code and sentence."""
from __future__ import annotations

import logging
from datetime import timedelta

from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

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
            raise BusinessError(cause.type or closed.code, cause.message, status=409) from None
        raise BusinessError("service_unavailable", "That did not go through; please try again.", status=503) from None
    except RPCError as exc:
        log.warning("update %s on %s failed: %s", name, handle.id, exc)
        raise closed from None
