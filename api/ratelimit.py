"""The enumeration guard on availability checks: per IP and per signed-in client, in this process.
(Several API processes each keep their own buckets; put a shared store here before scaling out.)"""
from __future__ import annotations

import math
import time

from fastapi import Request

from core.refusals import Refusals, refuse
from core.ratelimit import TokenBuckets


class CheckLimiter:
    def __init__(self, per_ip: int, per_client: int, trust_forwarded_for: bool):
        self._ip = TokenBuckets(per_ip)
        self._client = TokenBuckets(per_client)
        self._trust = trust_forwarded_for

    def client_ip(self, request: Request) -> str:
        if self._trust and (forwarded := request.headers.get("x-forwarded-for")):
            return forwarded.split(",")[0].strip()
        return request.client.host if request.client else "unknown"

    def check(self, request: Request) -> None:
        now = time.monotonic()
        cid = request.state.session.get("cid")
        # signed-in clients are counted per account; anonymous visitors per address
        wait = self._client.take(f"c{cid}", now) if cid else self._ip.take(self.client_ip(request), now)
        if wait:
            seconds = max(1, math.ceil(wait))
            raise refuse(Refusals.RATE_LIMITED, seconds=seconds, retry_after=seconds)


async def limit_checks(request: Request) -> None:
    request.app.state.limiter.check(request)
