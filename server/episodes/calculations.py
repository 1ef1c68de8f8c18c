"""Which day of a withdrawal episode a calendar day is: pure functions, no Flask, no database."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo


def anchor_day(started_on: date, last_use_at: datetime | None, timezone: str) -> date:
    """Day 0 of an episode: the local date (in `timezone`) of the last use, else its start."""
    if last_use_at is None:
        return started_on
    return last_use_at.astimezone(ZoneInfo(timezone)).date()


@dataclass(frozen=True, slots=True)
class EpisodeSpan:
    """The days an episode numbers: from its day 0 to its end (open: no end)."""

    anchor: date
    started_on: date
    ended_on: date | None

    def covers(self, day: date) -> bool:
        """Whether the day lies within anchor .. ended_on (inclusive)."""
        return self.anchor <= day and (self.ended_on is None or day <= self.ended_on)


def episode_day(day: date, spans: Iterable[EpisodeSpan]) -> int | None:
    """Whole days since day 0 of the episode covering `day`, or None if none covers it.

    Where corrected dates make two episodes cover one day, the one with the later day 0
    (then the later start) applies: it is the more recent account of that day.
    """
    covering = [span for span in spans if span.covers(day)]
    if not covering:
        return None
    latest = max(covering, key=lambda span: (span.anchor, span.started_on))
    return (day - latest.anchor).days
