"""Background heartbeats for activities whose single call may block (a slow provider): a worker
that dies mid-call is noticed after the heartbeat timeout, not after the whole step timeout."""
from __future__ import annotations

import asyncio
import functools

from temporalio import activity

INTERVAL_S = 2.0


def heartbeating(fn):
    @functools.wraps(fn)
    async def wrapper(*args, **kwargs):
        async def beat() -> None:
            while True:
                activity.heartbeat()
                await asyncio.sleep(INTERVAL_S)

        task = asyncio.create_task(beat())
        try:
            return await fn(*args, **kwargs)
        finally:
            task.cancel()

    return wrapper
