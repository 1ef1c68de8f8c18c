"""Judge one day's check-in against the patient's own recent history.

Pure functions only: no Flask, no database. The rules live in ``RULES``, one
small function per rule, listed from most to least urgent so the sequence
reads like the rules table rendered from ``RULES_DOC``. If no rule raises the
level, the day is ``stable``. Instrument results (SOWS responses, COWS
observations) of the day and of its baseline window are optional input: without
them a day is judged on its check-ins alone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from server.config import env_variable, float_setting, int_setting, refused
from server.vocabulary import CORE_SYMPTOMS, COWS_ID, LEVELS, MAX_TOTAL, SOWS_GOSSOP_ID

# Most urgent first. "stable" ranks above "improving" only so that the order
# is total; the rules never produce both for the same day.


# Averages are floats; a tiny tolerance keeps "exactly at the threshold"
# firing even when the mean is something like 17.333... + 5.
_EPSILON = 1e-9
# COWS bands that make a day severe (server/instruments/definitions.py publishes the bands).
SEVERE_COWS_BANDS = ("moderately_severe", "severe")
# SOWS-Gossop totals run 0-30: a larger worsening delta could never fire.
SOWS_GOSSOP_MAX_TOTAL = 30


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


class InstrumentResultLike(Protocol):
    """What the rules read from a scored instrument result: a SOWS response, a COWS observation."""

    @property
    def instrument_id(self) -> str:
        """The instrument's versioned id, e.g. ``cows-11``."""

    @property
    def date(self) -> dt.date:
        """The patient's local calendar day the result describes."""

    @property
    def total(self) -> int:
        """The instrument's total."""

    @property
    def band(self) -> str | None:
        """The published band of the total (COWS only), else None."""


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
    sows_worsening_delta: int = 4
    sows_baseline_min_responses: int = 2

    CONFIG_PREFIX: ClassVar[str] = "JUDGEMENT_"
    # Allowed values per field, inclusive; the deltas (floats) must also be above the low end.
    # BASELINE_MIN_CHECKINS and SOWS_BASELINE_MIN_RESPONSES must also be at most BASELINE_DAYS.
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
        "sows_worsening_delta": (1, SOWS_GOSSOP_MAX_TOTAL),
        "sows_baseline_min_responses": (1, 90),
    }
    # Minimum counts in the baseline window: more than the window's days could never be met.
    AT_MOST_BASELINE_DAYS: ClassVar[tuple[str, ...]] = (
        "baseline_min_checkins",
        "sows_baseline_min_responses",
    )

    def __post_init__(self) -> None:
        """Reject windows that would make the rules meaningless."""
        for name in ("overdose_break_days", "baseline_days", *self.AT_MOST_BASELINE_DAYS):
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
        for name in cls.AT_MOST_BASELINE_DAYS:
            if values[name] > values["baseline_days"]:
                key = cls.CONFIG_PREFIX + name.upper()
                raise refused(
                    key,
                    config.get(key, values[name]),
                    f"must be at most {env_variable(cls.CONFIG_PREFIX + 'BASELINE_DAYS')} "
                    f"({values['baseline_days']})",
                )
        return cls(**values)


Facts = Mapping[str, Any]


@dataclass(frozen=True)
class Reason:
    """One rule that fired, with the facts it found; the wording depends on the reader."""

    code: str
    facts: Facts

    @property
    def message(self) -> str:
        """The reason as written for the patient."""
        return _RULES_BY_CODE[self.code].for_patient(self.facts)

    @property
    def counselor_message(self) -> str:
        """The reason as written for a counselor who reads the patient's data."""
        return _RULES_BY_CODE[self.code].for_counselor(self.facts)


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
class InstrumentBaseline:
    """The mean of one instrument's daily totals in the window just before the current day."""

    responses: int
    mean_total: float


@dataclass(frozen=True)
class Context:
    """Everything a rule may look at, computed once per assessment."""

    current: CheckinLike
    earlier_newest_first: tuple[CheckinLike, ...]
    baseline_checkin_count: int
    baseline: Baseline | None
    thresholds: Thresholds
    # The instrument results of the current day, and the SOWS-Gossop baseline before it.
    instruments_of_day: tuple[InstrumentResultLike, ...] = ()
    sows_baseline: InstrumentBaseline | None = None


RuleCheck = Callable[[Context], Sequence[Facts]]
Rendering = Callable[[Facts], str]


@dataclass(frozen=True)
class Rule:
    """A row of the rules table: a code, its level, its check and how to word what it found.

    The check returns the facts of each finding once; `for_patient` and `for_counselor`
    only word the same facts for their reader.
    """

    code: str
    level: str
    check: RuleCheck
    describe: Callable[[Thresholds], str]
    for_patient: Rendering
    for_counselor: Rendering
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


# --- The rules, one function each: each finding is a dict of facts -----------


def _crisis(ctx: Context) -> list[Facts]:
    if ctx.current.crisis is not True:
        return []
    return [{}]


def _severe_symptoms(ctx: Context) -> list[Facts]:
    t = ctx.thresholds
    current = ctx.current
    severe = [
        (name, getattr(current, name))
        for name in CORE_SYMPTOMS
        if getattr(current, name) >= t.severe_score
    ]
    severe_total = current.total >= t.severe_total
    if not severe and not severe_total:
        return []
    return [
        {
            "severe": severe,
            "severe_score": t.severe_score,
            "total": current.total if severe_total else None,
            "severe_total": t.severe_total,
        }
    ]


def _dehydration_risk(ctx: Context) -> list[Facts]:
    t = ctx.thresholds
    yesterday_date = ctx.current.date - dt.timedelta(days=1)
    yesterday = next((c for c in ctx.earlier_newest_first if c.date == yesterday_date), None)
    # Both days must be logged: a gap day tells us nothing, so it breaks the run.
    if yesterday is None:
        return []
    today_score, yesterday_score = _gut_score(ctx.current), _gut_score(yesterday)
    if today_score < t.dehydration_score or yesterday_score < t.dehydration_score:
        return []
    return [{"threshold": t.dehydration_score, "day": today_score, "day_before": yesterday_score}]


def _overdose_risk(ctx: Context) -> list[Facts]:
    needed = ctx.thresholds.overdose_break_days
    if ctx.current.used_opioids is not True:
        return []
    recent = ctx.earlier_newest_first[:needed]
    # Without enough earlier check-ins we cannot tell that there was a break.
    if len(recent) < needed or any(c.used_opioids is True for c in recent):
        return []
    return [{"break_checkins": needed}]


def _worsening_total(ctx: Context) -> list[Facts]:
    t, baseline = ctx.thresholds, ctx.baseline
    if baseline is None:
        return []
    if not _at_least(ctx.current.total, baseline.mean_total + t.worsening_total_delta):
        return []
    return [{"total": ctx.current.total, "days": t.baseline_days, "mean": baseline.mean_total}]


def _worsening_symptom(ctx: Context) -> list[Facts]:
    t, baseline = ctx.thresholds, ctx.baseline
    if baseline is None:
        return []
    found = []
    for name in CORE_SYMPTOMS:
        score = getattr(ctx.current, name)
        mean = baseline.mean_by_symptom[name]
        if score >= t.worsening_symptom_min and _at_least(score, mean + t.worsening_symptom_delta):
            found.append({"symptom": name, "score": score, "days": t.baseline_days, "mean": mean})
    return found


def _highest_of_day(ctx: Context, instrument_id: str) -> InstrumentResultLike | None:
    """The day's highest result of an instrument (COWS may be observed several times a day)."""
    results = [r for r in ctx.instruments_of_day if r.instrument_id == instrument_id]
    return max(results, key=lambda r: r.total, default=None)


def _cows_severe(ctx: Context) -> list[Facts]:
    observed = _highest_of_day(ctx, COWS_ID)
    if observed is None or observed.band not in SEVERE_COWS_BANDS:
        return []
    return [{"total": observed.total, "band": observed.band.replace("_", " ")}]


def _sows_worsening(ctx: Context) -> list[Facts]:
    t, baseline = ctx.thresholds, ctx.sows_baseline
    reported = _highest_of_day(ctx, SOWS_GOSSOP_ID)
    if reported is None or baseline is None:
        return []
    if not _at_least(reported.total, baseline.mean_total + t.sows_worsening_delta):
        return []
    return [
        {
            "total": reported.total,
            "days": t.baseline_days,
            "mean": baseline.mean_total,
            "delta": t.sows_worsening_delta,
        }
    ]


def _improving(ctx: Context) -> list[Facts]:
    t, baseline = ctx.thresholds, ctx.baseline
    if baseline is None:
        return []
    if not _at_most(ctx.current.total, baseline.mean_total - t.improving_total_delta):
        return []
    return [{"total": ctx.current.total, "days": t.baseline_days, "mean": baseline.mean_total}]


def _no_baseline(ctx: Context) -> list[Facts]:
    t = ctx.thresholds
    if ctx.baseline is not None:
        return []
    return [
        {
            "checkins": ctx.baseline_checkin_count,
            "days": t.baseline_days,
            "needed": t.baseline_min_checkins,
        }
    ]


# --- Wording: the patient reads "you", a counselor reads "the patient" --------


def _scores(severe: Sequence[tuple[str, int]]) -> str:
    """List symptoms with their scores: "nausea 9 and aches 10"."""
    return _join_and([f"{name} {score}" for name, score in severe])


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _severe_for_patient(f: Facts) -> str:
    parts: list[str] = []
    if f["severe"]:
        verb = "is" if len(f["severe"]) == 1 else "are"
        parts.append(
            f"{_capitalised(_scores(f['severe']))} {verb} severe ({f['severe_score']} or more)."
        )
    if f["total"] is not None:
        parts.append(f"Total {f['total']} of {MAX_TOTAL} is severe ({f['severe_total']} or more).")
    parts.append("Please consider contacting your care team or a clinician today.")
    return " ".join(parts)


def _severe_for_counselor(f: Facts) -> str:
    parts: list[str] = []
    if f["severe"]:
        parts.append(f"{_scores(f['severe'])} (severe, {f['severe_score']} or more)")
    if f["total"] is not None:
        parts.append(
            f"a total of {f['total']} of {MAX_TOTAL} (severe, {f['severe_total']} or more)"
        )
    return (
        f"The patient reported {' and '.join(parts)}. They were asked to consider "
        "contacting their care team or a clinician that day."
    )


def _crisis_for_patient(_f: Facts) -> str:
    return (
        "You said you feel unsafe or in crisis. Please contact a crisis line or "
        "your local emergency number now. You don't have to get through this alone."
    )


def _crisis_for_counselor(_f: Facts) -> str:
    return (
        "The patient reported feeling unsafe or in crisis and was shown crisis lines and "
        "their local emergency number. Steady is not monitored in real time."
    )


def _dehydration_for_patient(f: Facts) -> str:
    return (
        f"Vomiting or diarrhoea at {f['threshold']} or more two days in a row "
        f"(today {f['day']}, yesterday {f['day_before']}). Please seek medical care "
        "today: persistent vomiting or diarrhoea during withdrawal can cause "
        "dangerous dehydration."
    )


def _dehydration_for_counselor(f: Facts) -> str:
    return (
        f"The patient reported vomiting or diarrhoea at {f['threshold']} or more on two "
        f"days in a row ({f['day']} on this day, {f['day_before']} the day before), which "
        "can cause dangerous dehydration during withdrawal. They were asked to seek "
        "medical care that day."
    )


def _overdose_for_patient(f: Facts) -> str:
    return (
        f"You reported using today after {f['break_checkins']} check-ins with no use. "
        "Tolerance drops quickly after a break, so an amount you used to take can now "
        "cause an overdose. Try not to use alone, keep naloxone nearby, and call your "
        "emergency number if someone can't be woken."
    )


def _overdose_for_counselor(f: Facts) -> str:
    return (
        f"The patient reported opioid use after {f['break_checkins']} check-ins with no "
        "use. Tolerance drops quickly after a break, so their risk of overdose is higher. "
        "They were shown naloxone and emergency guidance."
    )


def _worsening_total_for_patient(f: Facts) -> str:
    return f"Total {f['total']}, up from a {f['days']}-day average of {f['mean']:.1f}."


def _worsening_total_for_counselor(f: Facts) -> str:
    return (
        f"The patient's total was {f['total']}, up from their {f['days']}-day average of "
        f"{f['mean']:.1f}."
    )


def _worsening_symptom_for_patient(f: Facts) -> str:
    return (
        f"{f['symptom'].capitalize()} {f['score']}, up from a {f['days']}-day average of "
        f"{f['mean']:.1f}."
    )


def _worsening_symptom_for_counselor(f: Facts) -> str:
    return (
        f"The patient reported {f['symptom']} {f['score']}, up from their {f['days']}-day "
        f"average of {f['mean']:.1f}."
    )


# The instruments are named in words: people do not know the ids.
_COWS = "COWS (Clinical Opiate Withdrawal Scale)"
_SOWS_GOSSOP = "SOWS-Gossop (Short Opiate Withdrawal Scale)"


def _cows_severe_for_patient(f: Facts) -> str:
    return (
        f"A clinician's {_COWS} observation today totalled {f['total']}, in the "
        f"{f['band']} band. Please consider contacting your care team or a clinician today."
    )


def _cows_severe_for_counselor(f: Facts) -> str:
    return (
        f"The patient's {_COWS} observation on this day totalled {f['total']}, in the "
        f"{f['band']} band. They were asked to consider contacting their care team or a "
        "clinician that day."
    )


def _sows_worsening_for_patient(f: Facts) -> str:
    return (
        f"Your {_SOWS_GOSSOP} total is {f['total']}, {f['delta']} or more points above "
        f"your {f['days']}-day average of {f['mean']:.1f}."
    )


def _sows_worsening_for_counselor(f: Facts) -> str:
    return (
        f"The patient's {_SOWS_GOSSOP} total was {f['total']}, {f['delta']} or more points "
        f"above their {f['days']}-day average of {f['mean']:.1f}."
    )


def _improving_for_patient(f: Facts) -> str:
    return f"Total {f['total']}, down from a {f['days']}-day average of {f['mean']:.1f}."


def _improving_for_counselor(f: Facts) -> str:
    return (
        f"The patient's total was {f['total']}, down from their {f['days']}-day average of "
        f"{f['mean']:.1f}."
    )


def _no_baseline_for_patient(f: Facts) -> str:
    return (
        "Not enough recent check-ins to compare with yet "
        f"({f['checkins']} in the last {f['days']} days; {f['needed']} needed)."
    )


def _no_baseline_for_counselor(f: Facts) -> str:
    return (
        "The patient has too few recent check-ins to compare with yet "
        f"({f['checkins']} in the last {f['days']} days; {f['needed']} needed)."
    )


# Most urgent first; reasons come out in this order.
RULES: tuple[Rule, ...] = (
    Rule(
        "crisis",
        "crisis",
        _crisis,
        lambda t: "The patient says they feel unsafe or in crisis.",
        _crisis_for_patient,
        _crisis_for_counselor,
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
        _severe_for_patient,
        _severe_for_counselor,
    ),
    Rule(
        "dehydration_risk",
        "severe",
        _dehydration_risk,
        lambda t: (
            f"Vomiting or diarrhoea is DEHYDRATION_SCORE ({t.dehydration_score}) or "
            "more both today and on yesterday's check-in (both days logged)."
        ),
        _dehydration_for_patient,
        _dehydration_for_counselor,
    ),
    Rule(
        "cows_severe",
        "severe",
        _cows_severe,
        lambda t: (
            "The day's COWS observation (its highest, if there are several) is in the "
            "moderately severe or the severe band."
        ),
        _cows_severe_for_patient,
        _cows_severe_for_counselor,
    ),
    Rule(
        "overdose_risk",
        "worsening",
        _overdose_risk,
        lambda t: (
            "Opioid use reported today after the last OVERDOSE_BREAK_DAYS "
            f"({t.overdose_break_days}) check-ins reported none."
        ),
        _overdose_for_patient,
        _overdose_for_counselor,
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
        _worsening_total_for_patient,
        _worsening_total_for_counselor,
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
        _worsening_symptom_for_patient,
        _worsening_symptom_for_counselor,
    ),
    Rule(
        "sows_worsening",
        "worsening",
        _sows_worsening,
        lambda t: (
            "With SOWS-Gossop responses on at least SOWS_BASELINE_MIN_RESPONSES "
            f"({t.sows_baseline_min_responses}) of the previous BASELINE_DAYS "
            f"({t.baseline_days}) days, the day's SOWS-Gossop total is at least their mean + "
            f"SOWS_WORSENING_DELTA ({t.sows_worsening_delta})."
        ),
        _sows_worsening_for_patient,
        _sows_worsening_for_counselor,
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
        _improving_for_patient,
        _improving_for_counselor,
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
        _no_baseline_for_patient,
        _no_baseline_for_counselor,
    ),
)


def describe_rules(thresholds: Thresholds | None = None) -> list[tuple[str, str, str]]:
    """Return the rules table as (code, level, description) rows."""
    thresholds = thresholds or Thresholds()
    return [(rule.code, rule.level, rule.describe(thresholds)) for rule in RULES]


RULES_DOC: list[tuple[str, str, str]] = describe_rules()
_RULES_BY_CODE: Mapping[str, Rule] = {rule.code: rule for rule in RULES}


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


def _instrument_baseline(
    results: Iterable[InstrumentResultLike],
    instrument_id: str,
    current_date: dt.date,
    thresholds: Thresholds,
) -> InstrumentBaseline | None:
    """Average an instrument's daily totals in the baseline window, if enough days have one."""
    window_start = current_date - dt.timedelta(days=thresholds.baseline_days)
    by_day: dict[dt.date, int] = {}
    for r in results:
        if r.instrument_id == instrument_id and window_start <= r.date < current_date:
            by_day[r.date] = max(r.total, by_day.get(r.date, r.total))
    if len(by_day) < thresholds.sows_baseline_min_responses:
        return None
    return InstrumentBaseline(len(by_day), sum(by_day.values()) / len(by_day))


def assess(
    current: CheckinLike,
    history: Iterable[CheckinLike],
    thresholds: Thresholds = Thresholds(),  # noqa: B008 - frozen, safe to share
    instruments: Iterable[InstrumentResultLike] = (),
) -> Assessment:
    """Judge ``current`` against the patient's earlier check-ins in ``history``.

    ``instruments`` holds the patient's instrument results of the day and of the baseline
    window before it (others are ignored); none leaves the day judged on check-ins alone.
    """
    # Callers may pass extra rows; anything not strictly earlier is ignored.
    earlier = sorted(
        (c for c in history if c.date < current.date),
        key=lambda c: c.date,
        reverse=True,
    )
    baseline_count, baseline = _baseline(earlier, current.date, thresholds)
    instruments = tuple(instruments)
    ctx = Context(
        current=current,
        earlier_newest_first=tuple(earlier),
        baseline_checkin_count=baseline_count,
        baseline=baseline,
        thresholds=thresholds,
        instruments_of_day=tuple(r for r in instruments if r.date == current.date),
        sows_baseline=_instrument_baseline(instruments, SOWS_GOSSOP_ID, current.date, thresholds),
    )

    fired: list[tuple[Rule, Reason]] = []
    for rule in RULES:
        if rule.only_if_nothing_else_fired and fired:
            continue
        fired.extend((rule, Reason(rule.code, facts)) for facts in rule.check(ctx))

    return Assessment(
        level=most_urgent(rule.level for rule, _ in fired),
        reasons=tuple(reason for _, reason in fired),
        checkin_date=current.date,
    )
