"""The calendar subscriptions live by. In production a day is a day (UTC); a demo may shorten it
(`day_seconds`) so a whole term, its reminders, grace and quarantine play out in minutes. The
mapping is pure, so a workflow and the web pages agree on what day it is."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone


@dataclass(frozen=True)
class Calendar:
    day_seconds: float = 0.0          # 0: real days
    epoch: datetime | None = None     # demo only: the instant virtual day `epoch.date()` began

    @property
    def demo(self) -> bool:
        return self.day_seconds > 0 and self.epoch is not None

    def today(self, now: datetime) -> date:
        if not self.demo:
            return now.astimezone(timezone.utc).date()
        assert self.epoch is not None
        elapsed = (now - self.epoch).total_seconds()
        return self.epoch.date() + timedelta(days=int(elapsed // self.day_seconds))

    def at(self, day: date, hour: float = 0.0) -> datetime:
        """The real instant `hour` o'clock of `day` begins."""
        if not self.demo:
            return datetime.combine(day, time(0), tzinfo=timezone.utc) + timedelta(hours=hour)
        assert self.epoch is not None
        days = (day - self.epoch.date()).days + hour / 24
        return self.epoch + timedelta(seconds=days * self.day_seconds)

    def until(self, now: datetime, day: date, hour: float = 0.0) -> timedelta:
        """How long to sleep from `now` to that moment; never negative."""
        return max(timedelta(0), self.at(day, hour) - now)

    def days(self, n: float) -> timedelta:
        """A span of `n` calendar days as real time."""
        return timedelta(seconds=n * self.day_seconds) if self.demo else timedelta(days=n)


def utc(when: datetime) -> datetime:
    """A stored time as an aware UTC datetime: SQLite hands times back without their zone (we store
    UTC), and a workflow subtracting one from `workflow.now()` needs the zone."""
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)
