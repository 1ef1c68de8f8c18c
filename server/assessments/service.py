"""Judge a day against the history it is given and attach the resources that fit."""

from collections.abc import Iterable

from server.assessments.judgement import (
    Assessment,
    CheckinLike,
    InstrumentResultLike,
    Thresholds,
    assess,
)
from server.auth.models import Principal
from server.common.settings import settings
from server.resources import service as resources_service
from server.vocabulary import NO_DATA

NOTICE = (
    "Steady is a self-report aid, not a diagnosis and not an emergency service: no one "
    "watches check-ins in real time, and a counselor may not see an alert quickly. If you "
    "are in danger or thinking of harming yourself, call your emergency number or a "
    "crisis line now."
)


def thresholds() -> Thresholds:
    """The judgement thresholds configured for this app (validated at start-up)."""
    return settings().thresholds


def history_needed() -> int:
    """How many earlier check-ins the rules read: enough for the baseline window and the break."""
    # At most one check-in per day, so the window holds no more check-ins than it has days.
    rules = thresholds()
    return max(rules.baseline_days, rules.overdose_break_days)


def judge(
    checkin: CheckinLike,
    history: Iterable[CheckinLike],
    instruments: Iterable[InstrumentResultLike] = (),
) -> Assessment:
    """Apply the rules to a check-in against the earlier check-ins (and instrument results)."""
    return assess(checkin, history, thresholds(), instruments)


def instrument_days_needed() -> int:
    """How many days before a judged day its instrument results are read (the baseline)."""
    return thresholds().baseline_days


def _reason_codes(judged: Assessment) -> set[str]:
    """The codes of the rules that fired."""
    return {reason.code for reason in judged.reasons}


def needs_resources(judged: Assessment) -> bool:
    """Tell whether the day's level or reasons call for any resources."""
    return bool(resources_service.kinds_for(judged.level, _reason_codes(judged)))


def reasons_of(judged: Assessment, *, for_counselor: bool = False) -> list[dict]:
    """The reasons as plain dicts in the order the rules fired, worded for their reader."""
    return [
        {
            "code": reason.code,
            "message": reason.counselor_message if for_counselor else reason.message,
        }
        for reason in judged.reasons
    ]


def present(
    patient: Principal,
    judged: Assessment | None,
    *,
    counselor_ids: tuple[str, ...] = (),
    for_counselor: bool = False,
) -> dict:
    """Shape an assessment with the resources for the patient's region, for its reader."""
    if judged is None:
        return {
            "level": NO_DATA,
            "reasons": [],
            "resources": [],
            "checkin_date": None,
            "notice": NOTICE,
        }
    return {
        "level": judged.level,
        "reasons": reasons_of(judged, for_counselor=for_counselor),
        "resources": resources_service.for_assessment(
            region=patient.region,
            level=judged.level,
            reason_codes=_reason_codes(judged),
            counselor_ids=counselor_ids,
        ),
        "checkin_date": judged.checkin_date,
        "notice": NOTICE,
    }
