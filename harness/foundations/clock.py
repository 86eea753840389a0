"""The injectable clock: every component takes a `Clock` instead of reading the time itself."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The system clock, as an aware UTC datetime."""
    return datetime.now(UTC)


class OffsetClock:
    """The system clock moved by hand: a run judged at another date, a recette travelling in time (retention)."""

    def __init__(self, start: datetime | None = None) -> None:
        """`start`: what the clock reads now (it then runs at the system clock's pace); None: the system clock."""
        self.offset = start - utc_now() if start is not None else timedelta()

    @classmethod
    def on(cls, day: date) -> "OffsetClock":
        """A clock that reads `day`, at the current UTC time of day."""
        return cls(datetime.combine(day, utc_now().timetz()))

    def __call__(self) -> datetime:
        return utc_now() + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta
