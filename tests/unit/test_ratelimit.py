"""The enumeration guard: buckets refill with time, keys are independent, memory is bounded."""
from __future__ import annotations

from unittest.mock import MagicMock

from fastapi.testclient import TestClient

from api.app import create_app
from core.ratelimit import TokenBuckets
from settings import Settings


def test_bucket_allows_a_burst_then_waits_for_refill():
    buckets = TokenBuckets(per_minute=3)
    assert [buckets.take("ip", 0.0) for _ in range(3)] == [0, 0, 0]
    assert buckets.take("ip", 0.0) == 20.0            # one token every 20 s
    assert buckets.take("other", 0.0) == 0
    assert buckets.take("ip", 20.0) == 0               # refilled


def test_keys_are_bounded():
    buckets = TokenBuckets(per_minute=60, max_keys=10)
    for i in range(100):
        buckets.take(f"k{i}", float(i * 10))
    assert len(buckets._buckets) <= 11


def test_over_the_limit_is_429_with_retry_after(tmp_path):
    from store.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade(url)
    app = create_app(Settings(database_url=url, environment="development", checks_per_minute_per_ip=2), temporal=MagicMock())
    with TestClient(app) as http:
        params = {"names": "mark", "domains": "nowhere.org"}
        assert [http.get("/api/v1/availability", params=params).status_code for _ in range(2)] == [422, 422]
        limited = http.get("/api/v1/availability", params=params)
        assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
        assert int(limited.headers["Retry-After"]) >= 1


def test_failures_window_counts_only_recent_ones_and_says_when_the_oldest_ages_out():
    from core.ratelimit import window_wait

    window = 900.0
    assert window_wait([10, 20, 30, 40], 5, window, 100) == 0            # four of five allowed
    assert window_wait([10, 20, 30, 40, 50], 5, window, 100) == 810      # until the first is 15 minutes old
    assert window_wait([10, 20, 30, 40, 50, 60], 5, window, 100) == 820  # one more must age out
    assert window_wait([10, 20, 30, 40, 50], 5, window, 910) == 0        # the first has aged out
