"""Every call the dashboard makes into the other features, in one place.

Each page is built from the API's own use cases, so it is scoped by the same share and
written to the patient's access log with the same events as the API's equivalent:
`patient_listed` and `alerts_viewed` for the caseload, `trends_viewed`, `checkins_viewed`
and `status_viewed` for a patient's page, `alerts_viewed` and `alert_acknowledged` for the
alerts, `export` for a download. Nothing here decides access: sharing/policy.py does.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from marshmallow import ValidationError

from server.alerts import service as alerts_service
from server.auth.models import Principal
from server.checkins.schemas import DateRangeQuerySchema
from server.errors import ValidationFailed
from server.exports import service as exports_service
from server.patients import service as patients_service
from server.sharing import policy
from server.sharing.policy import ActiveShare
from server.trends import service as trends_service
from server.vocabulary import CORE_SYMPTOMS

# A patient's page covers at most the trends' longest range, so its days fit on one page.
MAX_DAYS = trends_service.MAX_RANGE_DAYS
# Reason codes of a day's judgement shown as flags, beside what the patient reported.
FLAG_REASONS = {"dehydration_risk": "Dehydration risk", "overdose_risk": "Overdose risk"}
# Alerts are read in pages of the API's largest size until every one is in hand.
ALERTS_PAGE = 100


def caseload(counselor: Principal, page: int, page_size: int) -> tuple[dict, Counter]:
    """A page of the actively sharing patients, most urgent first, and their open alerts."""
    rows = patients_service.list_patients(counselor, page=page, page_size=page_size)
    open_alerts = _every_alert(counselor, "open")
    return rows, Counter(alert["patient"].id for alert in open_alerts)


def _every_alert(counselor: Principal, status: str) -> list[dict]:
    """Every alert of the counselor's patients with this status, one page after another."""
    alerts, page = [], 1
    while True:
        found = alerts_service.list_for(
            counselor=counselor, status=status, page=page, page_size=ALERTS_PAGE
        )
        alerts += found["items"]
        if page >= found["total_pages"]:
            return alerts
        page += 1


def patient_share(counselor: Principal, patient_id: str) -> tuple[ActiveShare, Principal]:
    """The active share that shows this patient to the counselor at all, or 404."""
    return policy.shared_patient(counselor, patient_id, None)


def _check_order(start: date | None, end: date | None) -> None:
    """The API's own rule for a from/to range (DateRangeQuerySchema), or a 422."""
    given = {key: day.isoformat() for key, day in (("from", start), ("to", end)) if day}
    try:
        DateRangeQuerySchema().load(given)
    except ValidationError as error:
        raise ValidationFailed("The dates are not valid.", errors=error.messages) from None


def date_range(patient: Principal, start: date | None, end: date | None) -> tuple[date, date]:
    """The trends' range rules: the last 30 days by default, at most 366 (422 otherwise)."""
    _check_order(start, end)
    return trends_service.resolve_range(patient, start, end)


@dataclass
class PatientView:
    """What a patient's page shows, each part only when the share's scope includes it."""

    share: ActiveShare
    patient: Principal
    start: date
    end: date
    trends: dict | None = None
    # Logged days, newest first; each with what the scope allows.
    days: list[dict] = field(default_factory=list)
    shows_scores: bool = False
    shows_levels: bool = False
    shows_notes: bool = False


def patient_view(
    counselor: Principal, share: ActiveShare, patient: Principal, start: date, end: date
) -> PatientView:
    """Read each part of the page the share allows; each read is the API's, audited alike."""
    view = PatientView(share, patient, start, end)
    scope, patient_id = share.scope, patient.id
    by_day: dict[date, dict] = {}
    if "trends" in scope:
        view.trends = patients_service.trends(
            counselor=counselor, patient_id=patient_id, start=start, end=end
        )
        for day in view.trends["days"]:
            if day["total"] is not None:
                by_day[day["date"]] = _day_row(day)
    if "checkins" in scope:
        page = patients_service.checkins(
            counselor=counselor,
            patient_id=patient_id,
            start=start,
            end=end,
            page=1,
            page_size=MAX_DAYS,
        )
        view.shows_notes = policy.may_see_notes(share)
        for checkin in page["items"]:
            by_day[checkin["date"]] = _day_row(checkin)
    view.shows_scores = bool(by_day)
    if "status" in scope:
        levels = patients_service.day_levels(
            counselor=counselor, patient_id=patient_id, start=start, end=end
        )
        view.shows_levels = True
        for day, judged in levels.items():
            row = by_day.setdefault(day, {"date": day, "flags": []})
            row["level"], row["reasons"] = judged["level"], judged["reasons"]
            codes = {reason["code"] for reason in judged["reasons"]}
            if "crisis" in codes and "Crisis" not in row["flags"]:
                row["flags"].insert(0, "Crisis")
            row["flags"].extend(FLAG_REASONS[code] for code in FLAG_REASONS if code in codes)
    if not scope_shows_data(share):
        # The page still named the patient and the share: what the caseload lists.
        policy.record_listing(counselor, [share])
    view.days = [by_day[day] for day in sorted(by_day, reverse=True)]
    return view


def scope_shows_data(share: ActiveShare) -> bool:
    """Tell whether the share lets the page show any of the patient's days."""
    return any(part in share.scope for part in ("trends", "checkins", "status"))


def _day_row(day: dict) -> dict:
    """A day's scores, total, what the patient flagged and (when given) the note."""
    flags = []
    if day.get("crisis"):
        flags.append("Crisis")
    if day.get("used_opioids"):
        flags.append("Used opioids")
    row = {
        "date": day["date"],
        "scores": {name: day[name] for name in CORE_SYMPTOMS},
        "total": day["total"],
        "flags": flags,
    }
    if "note" in day:
        row["note"] = day["note"]
    return row


def alerts(counselor: Principal) -> tuple[list[dict], list[dict]]:
    """Open alerts (most urgent first) and acknowledged ones (latest first)."""
    items = _every_alert(counselor, "all")
    still_open = [alert for alert in items if alert["acknowledged_at"] is None]
    done = [alert for alert in items if alert["acknowledged_at"] is not None]
    done.sort(key=lambda alert: alert["acknowledged_at"], reverse=True)
    return still_open, done


def acknowledge(counselor: Principal, alert_id: str) -> dict:
    """Mark an alert as seen (404 unless it is the counselor's, under an active share)."""
    return alerts_service.acknowledge(counselor=counselor, alert_id=alert_id)


def export(
    counselor: Principal, patient_id: str, start: date | None, end: date | None, fmt: str
) -> exports_service.Export:
    """A sharing patient's log as CSV, PDF or FHIR (404 unless the share includes export)."""
    _check_order(start, end)
    return exports_service.counselor_export(
        counselor=counselor, patient_id=patient_id, start=start, end=end, fmt=fmt
    )
