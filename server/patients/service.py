"""What a counselor may read of a sharing patient; every read is audited."""

from datetime import date

from server.assessments.judgement import level_rank
from server.assessments.service import reasons_of
from server.auth.models import Principal
from server.checkins import service as checkins_service
from server.checkins.schemas import checkin_fields
from server.common.pagination import slice_page
from server.instruments.definitions import CLINICIAN_INSTRUMENTS, INSTRUMENTS
from server.sharing import policy
from server.trends import service as trends_service
from server.vocabulary import NO_DATA

RECENT_DAYS = 7


def _row(share, patient: Principal, recent) -> dict:
    """A list row, filled only with what the share's scope allows."""
    row = {
        "id": patient.id,
        "display_name": patient.display_name,
        "latest_checkin_date": None,
        "latest_assessment": None,
        "days_logged_last_7": None,
        "share": {"id": share.id, "scope": list(share.scope), "expires_on": share.expires_on},
    }
    if recent is None:
        return row
    if policy.shows_latest_checkin(share):
        row["latest_checkin_date"] = recent.latest.date if recent.latest else None
        row["days_logged_last_7"] = recent.days_logged
    if policy.shows_assessment(share):
        judged = recent.judged
        row["latest_assessment"] = {
            "level": judged.level if judged else NO_DATA,
            "reasons": reasons_of(judged, for_counselor=True) if judged else [],
        }
    return row


def _urgency(row: dict) -> tuple:
    """Sort key: most urgent level first, then the most recent check-in."""
    assessment = row["latest_assessment"]
    rank = level_rank(assessment["level"]) if assessment and assessment["level"] != NO_DATA else -1
    latest = row["latest_checkin_date"] or date.min
    return (-rank, -latest.toordinal(), row["display_name"])


def list_patients(counselor: Principal, *, page: int, page_size: int) -> dict:
    """A page of rows, one per actively sharing patient, most urgent first.

    Urgency is judged in Python from each patient's recent days, so every row is built
    (in a fixed number of reads) and the sorted list is sliced; only the page is audited,
    as only it is disclosed.
    """
    shares = policy.active_shares_for_counselor(counselor)
    visible = [patient for share, patient in shares if policy.shows_latest_checkin(share)]
    recent = checkins_service.recent_of(visible, RECENT_DAYS)
    rows = sorted(
        ((_row(share, patient, recent.get(patient.id)), share) for share, patient in shares),
        key=lambda pair: _urgency(pair[0]),
    )
    result = slice_page(rows, page=page, page_size=page_size)
    policy.record_listing(counselor, [share for _row_body, share in result["items"]])
    result["items"] = [row for row, _share in result["items"]]
    return result


def checkins(*, counselor: Principal, patient_id: str, start, end, page, page_size) -> dict:
    """A page of a patient's check-ins; notes only if the share includes them."""
    with policy.disclosure(counselor, patient_id, "checkins", "checkins_viewed") as (
        share,
        patient,
        detail,
    ):
        result = checkins_service.list_page(patient, start, end, page, page_size)
        include_note = policy.may_see_notes(share)
        detail.update(
            start=result["start"], end=result["end"], page=page, notes_included=include_note
        )
    result["items"] = [checkin_fields(c, include_note=include_note) for c in result["items"]]
    return result


def _visible_instruments(share) -> tuple[str, ...]:
    """The instruments whose totals a share shows: observed ones (COWS) only with `assess`."""
    observed = policy.may_see_observations(share)
    return tuple(i for i in INSTRUMENTS if observed or i not in CLINICIAN_INSTRUMENTS)


def trends(*, counselor: Principal, patient_id: str, start, end, align="calendar") -> dict:
    """A patient's trends in the share's scope: COWS with `assess`, episodes with `checkins`."""
    with policy.disclosure(counselor, patient_id, "trends", "trends_viewed") as (
        share,
        patient,
        detail,
    ):
        if align == "episode":
            policy.require_episodes(share)
        start, end = trends_service.resolve_range(patient, start, end)
        detail.update(start=start, end=end)
        if align != "calendar":
            detail["align"] = align
        return trends_service.trends_for(
            patient,
            start,
            end,
            align=align,
            instrument_ids=_visible_instruments(share),
            with_episode_days=policy.may_see_episodes(share),
        )


def chart(
    *, counselor: Principal, patient_id: str, start, end, image_format: str, series=None
) -> bytes:
    """A patient's chart within the share's scope (`series`: None for the default).

    Asking for an observed instrument (COWS) needs `assess` too (404, nothing logged).
    """
    with policy.disclosure(counselor, patient_id, "trends", "chart_viewed") as (
        share,
        patient,
        detail,
    ):
        if set(series or ()) & set(CLINICIAN_INSTRUMENTS):
            policy.require_observations(share)
        start, end = trends_service.resolve_range(patient, start, end)
        detail.update(start=start, end=end, format=image_format)
        return trends_service.chart_for(patient, start, end, image_format, series)


def status(*, counselor: Principal, patient_id: str) -> dict:
    """A patient's latest assessment within the share's scope."""
    with policy.disclosure(counselor, patient_id, "status", "status_viewed") as (
        _,
        patient,
        _detail,
    ):
        return checkins_service.status(patient, viewer=counselor)


def day_levels(*, counselor: Principal, patient_id: str, start: date, end: date) -> dict:
    """Each logged day's level and reasons in a range, within the share's status scope."""
    with policy.disclosure(counselor, patient_id, "status", "status_viewed") as (
        _,
        patient,
        detail,
    ):
        judged = checkins_service.judged_in_range(patient.id, start, end)
        detail.update(start=start, end=end)
    return {
        day: {"level": judgement.level, "reasons": reasons_of(judgement, for_counselor=True)}
        for day, judgement in judged.items()
    }
