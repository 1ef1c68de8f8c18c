"""Judge one day's check-in against the patient's own recent history.

Pure functions only: no Flask, no database. The rules live in ``RULES``, one
small function per rule, listed from most to least urgent so the sequence
reads like the rules table rendered from ``RULES_DOC``. If no rule raises the
level, the day is ``stable``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from server.config import env_variable, float_setting, int_setting, refused
from server.vocabulary import CORE_SYMPTOMS, LEVELS, MAX_TOTAL

# Most urgent first. "stable" ranks above "improving" only so that the order
# is total; the rules never produce both for the same day.


# Averages are floats; a tiny tolerance keeps "exactly at the threshold"
# firing even when the mean is something like 17.333... + 5.
_EPSILON = 1e-9


class CheckinLike(Protocol):
    """What the rules read from a check-in (the ORM model or a test double)."""

    @property
    def date(self) -> dt.date:
        """The patient's local calendar day."""

    @property
    def nausea(self) -> int:
        """Nausea score 0-10."""

    @property
    def aches(self) -> int:
        """Aches score 0-10."""

    @property
    def anxiety(self) -> int:
        """Anxiety score 0-10."""

    @property
    def insomnia(self) -> int:
        """Insomnia score 0-10."""

    @property
    def diarrhea(self) -> int | None:
        """Diarrhoea score 0-10, if given."""

    @property
    def vomiting(self) -> int | None:
        """Vomiting score 0-10, if given."""

    @property
    def cravings(self) -> int | None:
        """Cravings score 0-10, if given."""

    @property
    def sleep_hours(self) -> float | None:
        """Hours slept, if given."""

    @property
    def used_opioids(self) -> bool | None:
        """Whether the patient reported using opioids that day, if answered."""

    @property
    def crisis(self) -> bool | None:
        """Whether the patient said they feel unsafe or in crisis, if answered."""

    @property
    def note(self) -> str | None:
        """Free-text note, if any."""

    @property
    def total(self) -> int:
        """Sum of the four core scores (0-40)."""


def level_rank(level: str) -> int:
    """Return how urgent a level is: higher means more urgent."""
    try:
        return len(LEVELS) - 1 - LEVELS.index(level)
    except ValueError:
        raise ValueError(f"unknown level {level!r}; expected one of {LEVELS}") from None


def compare_levels(a: str, b: str) -> int:
    """Return >0 if ``a`` is more urgent than ``b``, <0 if less urgent, 0 if equal."""
    return level_rank(a) - level_rank(b)


def most_urgent(levels: Iterable[str], default: str = "stable") -> str:
    """Return the most urgent of ``levels``, or ``default`` when there are none."""
    return max(levels, key=level_rank, default=default)


@dataclass(frozen=True)
class Thresholds:
    """Every number the rules use; override per deployment with ``from_config``."""

    severe_score: int = 9
    severe_total: int = 30
    dehydration_score: int = 7
    overdose_break_days: int = 3
    baseline_days: int = 7
    baseline_min_checkins: int = 3
    worsening_total_delta: float = 5.0
    worsening_symptom_delta: float = 3.0
    worsening_symptom_min: int = 6
    improving_total_delta: float = 5.0

    CONFIG_PREFIX: ClassVar[str] = "JUDGEMENT_"
    # Allowed values per field, inclusive; the deltas (floats) must also be above the low end.
    # BASELINE_MIN_CHECKINS must also be at most BASELINE_DAYS.
    BOUNDS: ClassVar[Mapping[str, tuple[int, int]]] = {
        "severe_score": (1, 10),
        "severe_total": (1, MAX_TOTAL),
        "dehydration_score": (1, 10),
        "overdose_break_days": (1, 30),
        "baseline_days": (1, 90),
        "baseline_min_checkins": (1, 90),
        "worsening_total_delta": (0, MAX_TOTAL),
        "worsening_symptom_delta": (0, 10),
        "worsening_symptom_min": (0, 10),
        "improving_total_delta": (0, MAX_TOTAL),
    }

    def __post_init__(self) -> None:
        """Reject windows that would make the rules meaningless."""
        for name in ("overdose_break_days", "baseline_days", "baseline_min_checkins"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Thresholds:
        """Build from optional ``JUDGEMENT_*`` keys; missing keys keep defaults.

        Values may be numbers or numeric text (environment variables). A value of the wrong
        kind or outside ``BOUNDS`` raises ``ConfigError`` naming its variable and the rule.
        """
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            key = cls.CONFIG_PREFIX + field.name.upper()
            low, high = cls.BOUNDS[field.name]
            if field.type == "float":
                values[field.name] = float_setting(
                    config, key, default=field.default, low=low, high=high, above_low=True
                )
            else:
                values[field.name] = int_setting(
                    config, key, default=field.default, low=low, high=high
                )
        if values["baseline_min_checkins"] > values["baseline_days"]:
            key = cls.CONFIG_PREFIX + "BASELINE_MIN_CHECKINS"
            raise refused(
                key,
                config.get(key, values["baseline_min_checkins"]),
                f"must be at most {env_variable(cls.CONFIG_PREFIX + 'BASELINE_DAYS')} "
                f"({values['baseline_days']})",
            )
        return cls(**values)


@dataclass(frozen=True)
class Reason:
    """One rule that fired, with a message meant for the patient."""

    code: str
    message: str


@dataclass(frozen=True)
class Assessment:
    """The judgement for one check-in: its level and why."""

    level: str
    reasons: tuple[Reason, ...]
    checkin_date: dt.date


@dataclass(frozen=True)
class Baseline:
    """Averages of the check-ins in the window just before the current day."""

    checkins: int
    mean_total: float
    mean_by_symptom: Mapping[str, float]


@dataclass(frozen=True)
class Context:
    """Everything a rule may look at, computed once per assessment."""

    current: CheckinLike
    earlier_newest_first: tuple[CheckinLike, ...]
    baseline_checkin_count: int
    baseline: Baseline | None
    thresholds: Thresholds


RuleCheck = Callable[[Context], Sequence[str]]


@dataclass(frozen=True)
class Rule:
    """A row of the rules table: a code, the level it implies, and its check."""

    code: str
    level: str
    check: RuleCheck
    describe: Callable[[Thresholds], str]
    # "improving" must not be reported next to any warning.
    only_if_nothing_else_fired: bool = False


def _number(value: float) -> str:
    """Format a threshold without a pointless ".0"."""
    return f"{value:g}"


def _join_and(parts: Sequence[str]) -> str:
    """Join as plain English: "a", "a and b", "a, b and c"."""
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _at_least(value: float, threshold: float) -> bool:
    return value >= threshold - _EPSILON


def _at_most(value: float, threshold: float) -> bool:
    return value <= threshold + _EPSILON


def _gut_score(checkin: CheckinLike) -> int:
    """Return the worse of vomiting and diarrhoea, counting "not answered" as 0."""
    return max(checkin.vomiting or 0, checkin.diarrhea or 0)


# --- The rules, one function each --------------------------------------------


def _crisis(ctx: Context) -> list[str]:
    if ctx.current.crisis is not True:
        return []
    return [
        "You said you feel unsafe or in crisis. Please contact a crisis line or "
        "your local emergency number now. You don't have to get through this alone."
    ]


def _severe_symptoms(ctx: Context) -> list[str]:
    t = ctx.thresholds
    current = ctx.current
    severe = [
        f"{name} {getattr(current, name)}"
        for name in CORE_SYMPTOMS
        if getattr(current, name) >= t.severe_score
    ]
    parts: list[str] = []
    if severe:
        verb = "is" if len(severe) == 1 else "are"
        listed = _join_and(severe)
        parts.append(f"{listed[0].upper()}{listed[1:]} {verb} severe ({t.severe_score} or more).")
    if current.total >= t.severe_total:
        parts.append(f"Total {current.total} of {MAX_TOTAL} is severe ({t.severe_total} or more).")
    if not parts:
        return []
    parts.append("Please consider contacting your care team or a clinician today.")
    return [" ".join(parts)]


def _dehydration_risk(ctx: Context) -> list[str]:
    t = ctx.thresholds
    yesterday_date = ctx.current.date - dt.timedelta(days=1)
    yesterday = next((c for c in ctx.earlier_newest_first if c.date == yesterday_date), None)
    # Both days must be logged: a gap day tells us nothing, so it breaks the run.
    if yesterday is None:
        return []
    today_score, yesterday_score = _gut_score(ctx.current), _gut_score(yesterday)
    if today_score < t.dehydration_score or yesterday_score < t.dehydration_score:
        return []
    return [
        f"Vomiting or diarrhoea at {t.dehydration_score} or more two days in a row "
        f"(today {today_score}, yesterday {yesterday_score}). Please seek medical care "
        "today: persistent vomiting or diarrhoea during withdrawal can cause "
        "dangerous dehydration."
    ]


def _overdose_risk(ctx: Context) -> list[str]:
    needed = ctx.thresholds.overdose_break_days
    if ctx.current.used_opioids is not True:
        return []
    recent = ctx.earlier_newest_first[:needed]
    # Without enough earlier check-ins we cannot tell that there was a break.
    if len(recent) < needed or any(c.used_opioids is True for c in recent):
        return []
    return [
        f"You reported using today after {needed} check-ins with no use. Tolerance "
        "drops quickly after a break, so an amount you used to take can now cause an "
        "overdose. Try not to use alone, keep naloxone nearby, and call your "
        "emergency number if someone can't be woken."
    ]


def _worsening_total(ctx: Context) -> list[str]:
    t, baseline = ctx.thresholds, ctx.baseline
    if baseline is None:
        return []
    if not _at_least(ctx.current.total, baseline.mean_total + t.worsening_total_delta):
        return []
    return [
        f"Total {ctx.current.total}, up from a {t.baseline_days}-day average of "
        f"{baseline.mean_total:.1f}."
    ]


def _worsening_symptom(ctx: Context) -> list[str]:
    t, baseline = ctx.thresholds, ctx.baseline
    if baseline is None:
        return []
    messages = []
    for name in CORE_SYMPTOMS:
        score = getattr(ctx.current, name)
        mean = baseline.mean_by_symptom[name]
        if score >= t.worsening_symptom_min and _at_least(score, mean + t.worsening_symptom_delta):
            messages.append(
                f"{name.capitalize()} {score}, up from a {t.baseline_days}-day "
                f"average of {mean:.1f}."
            )
    return messages


def _improving(ctx: Context) -> list[str]:
    t, baseline = ctx.thresholds, ctx.baseline
    if baseline is None:
        return []
    if not _at_most(ctx.current.total, baseline.mean_total - t.improving_total_delta):
        return []
    return [
        f"Total {ctx.current.total}, down from a {t.baseline_days}-day average of "
        f"{baseline.mean_total:.1f}."
    ]


def _no_baseline(ctx: Context) -> list[str]:
    t = ctx.thresholds
    if ctx.baseline is not None:
        return []
    return [
        "Not enough recent check-ins to compare with yet "
        f"({ctx.baseline_checkin_count} in the last {t.baseline_days} days; "
        f"{t.baseline_min_checkins} needed)."
    ]


# Most urgent first; reasons come out in this order.
RULES: tuple[Rule, ...] = (
    Rule(
        "crisis",
        "crisis",
        _crisis,
        lambda t: "The patient says they feel unsafe or in crisis.",
    ),
    Rule(
        "severe_symptoms",
        "severe",
        _severe_symptoms,
        lambda t: (
            f"Any of nausea, aches, anxiety or insomnia is SEVERE_SCORE "
            f"({t.severe_score}) or more, or the total is SEVERE_TOTAL "
            f"({t.severe_total}) or more."
        ),
    ),
    Rule(
        "dehydration_risk",
        "severe",
        _dehydration_risk,
        lambda t: (
            f"Vomiting or diarrhoea is DEHYDRATION_SCORE ({t.dehydration_score}) or "
            "more both today and on yesterday's check-in (both days logged)."
        ),
    ),
    Rule(
        "overdose_risk",
        "worsening",
        _overdose_risk,
        lambda t: (
            "Opioid use reported today after the last OVERDOSE_BREAK_DAYS "
            f"({t.overdose_break_days}) check-ins reported none."
        ),
    ),
    Rule(
        "worsening_total",
        "worsening",
        _worsening_total,
        lambda t: (
            "Total is at least the average total of the previous BASELINE_DAYS "
            f"({t.baseline_days}) days plus WORSENING_TOTAL_DELTA "
            f"({_number(t.worsening_total_delta)})."
        ),
    ),
    Rule(
        "worsening_symptom",
        "worsening",
        _worsening_symptom,
        lambda t: (
            "A core symptom is at least its average over the previous BASELINE_DAYS "
            f"({t.baseline_days}) days plus WORSENING_SYMPTOM_DELTA "
            f"({_number(t.worsening_symptom_delta)}) and at least "
            f"WORSENING_SYMPTOM_MIN ({t.worsening_symptom_min}); "
            "one reason per symptom."
        ),
    ),
    Rule(
        "improving",
        "improving",
        _improving,
        lambda t: (
            "No rule above fired and the total is at most the average total of the "
            f"previous BASELINE_DAYS ({t.baseline_days}) days minus "
            "IMPROVING_TOTAL_DELTA "
            f"({_number(t.improving_total_delta)})."
        ),
        only_if_nothing_else_fired=True,
    ),
    Rule(
        "no_baseline",
        "stable",
        _no_baseline,
        lambda t: (
            "Information only: fewer than BASELINE_MIN_CHECKINS "
            f"({t.baseline_min_checkins}) check-ins in the previous BASELINE_DAYS "
            f"({t.baseline_days}) days, so worsening and improving cannot be judged."
        ),
    ),
)


def describe_rules(thresholds: Thresholds | None = None) -> list[tuple[str, str, str]]:
    """Return the rules table as (code, level, description) rows."""
    thresholds = thresholds or Thresholds()
    return [(rule.code, rule.level, rule.describe(thresholds)) for rule in RULES]


RULES_DOC: list[tuple[str, str, str]] = describe_rules()


def _baseline(
    earlier: Sequence[CheckinLike], current_date: dt.date, thresholds: Thresholds
) -> tuple[int, Baseline | None]:
    """Count check-ins in the baseline window and average them if there are enough."""
    window_start = current_date - dt.timedelta(days=thresholds.baseline_days)
    in_window = [c for c in earlier if window_start <= c.date < current_date]
    if len(in_window) < thresholds.baseline_min_checkins:
        return len(in_window), None
    count = len(in_window)
    return count, Baseline(
        checkins=count,
        mean_total=sum(c.total for c in in_window) / count,
        mean_by_symptom={
            name: sum(getattr(c, name) for c in in_window) / count for name in CORE_SYMPTOMS
        },
    )


def assess(
    current: CheckinLike,
    history: Iterable[CheckinLike],
    thresholds: Thresholds = Thresholds(),  # noqa: B008 - frozen, safe to share
) -> Assessment:
    """Judge ``current`` against the patient's earlier check-ins in ``history``."""
    # Callers may pass extra rows; anything not strictly earlier is ignored.
    earlier = sorted(
        (c for c in history if c.date < current.date),
        key=lambda c: c.date,
        reverse=True,
    )
    baseline_count, baseline = _baseline(earlier, current.date, thresholds)
    ctx = Context(
        current=current,
        earlier_newest_first=tuple(earlier),
        baseline_checkin_count=baseline_count,
        baseline=baseline,
        thresholds=thresholds,
    )

    fired: list[tuple[Rule, Reason]] = []
    for rule in RULES:
        if rule.only_if_nothing_else_fired and fired:
            continue
        fired.extend((rule, Reason(rule.code, message)) for message in rule.check(ctx))

    return Assessment(
        level=most_urgent(rule.level for rule, _ in fired),
        reasons=tuple(reason for _, reason in fired),
        checkin_date=current.date,
    )
