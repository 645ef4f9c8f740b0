"""Token buckets for the enumeration guard (`capacity` checks at once, refilled at `per_minute`) and
the sliding window of failed sign-ins. Pure arithmetic; the caller keeps the counts and passes the clock in."""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    def __init__(self, per_minute: int, capacity: int | None = None, max_keys: int = 100_000):
        self.rate = per_minute / 60.0
        self.capacity = float(capacity or per_minute)
        self.max_keys = max_keys
        self._buckets: dict[str, Bucket] = {}

    def take(self, key: str, now: float) -> float:
        """0 when allowed (and counted); otherwise the seconds until the next check is allowed."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:  # bound memory: forget full (idle) buckets first
                self._buckets = {k: b for k, b in self._buckets.items()
                                 if b.tokens + (now - b.updated) * self.rate < self.capacity}
            bucket = self._buckets[key] = Bucket(self.capacity, now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate if self.rate else math.inf


def window_wait(times: list[float], limit: int, window: float, now: float) -> float:
    """Failures in a sliding window: 0 while fewer than `limit` of `times` fall within `window`
    seconds before `now`; otherwise the seconds until enough of them have aged out."""
    recent = sorted(t for t in times if now - window < t <= now)
    if len(recent) < limit:
        return 0.0
    return recent[len(recent) - limit] + window - now
