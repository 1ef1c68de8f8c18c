"""Export use cases: a patient's own log, or a sharing patient's log for a counselor."""

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from sqlalchemy import Engine, null, select

from server.accounts.models import User
from server.assessments import service as assessments_service
from server.checkins import service as checkins_service
from server.checkins.models import Checkin
from server.db import utcnow
from server.errors import ValidationFailed
from server.exports.csv_export import iter_csv
from server.exports.fhir_bundle import build_bundle
from server.exports.pdf_report import PdfReport, build_pdf
from server.extensions import db
from server.patients import service as patients_service
from server.resources import service as resources_service
from server.sharing import policy
from server.trends import service as trends_service

# format → (media type, file extension)
MEDIA_TYPES = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "pdf": ("application/pdf", "pdf"),
    "fhir": ("application/fhir+json", "json"),
}
DEFAULT_RANGE_DAYS = 30
MAX_RANGE_DAYS = 3653  # ten years, leap days included
# A chart of more days than this is unreadable and slow; the PDF charts the last year.
CHART_MAX_DAYS = 366
RESOURCE_KINDS = ("emergency", "crisis", "harm_reduction", "treatment", "helpline")
CSV_PAGE_ROWS = 250
CSV_CHUNK_CHARS = 16 * 1024

Render = Callable[[], bytes | Iterator[str]]


@dataclass(frozen=True)
class Export:
    """A finished (PDF, FHIR) or streaming (CSV) export and how to name it."""

    body: bytes | Iterator[str]
    media_type: str
    filename: str


def resolve_range(patient: User, start: date | None, end: date | None) -> tuple[date, date]:
    """Apply the default (last 30 days in the patient's zone) and the limits."""
    start, end = checkins_service.default_range(patient, start, end, DEFAULT_RANGE_DAYS)
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise ValidationFailed(
            "The range is too long.",
            errors={"from": [f"The range may cover at most {MAX_RANGE_DAYS} days (10 years)."]},
        )
    return start, end


def patient_export(patient: User, start: date | None, end: date | None, fmt: str) -> Export:
    """Export a patient's own log (notes included)."""
    start, end = resolve_range(patient, start, end)
    render = _prepare(patient, start, end, fmt, include_notes=True)
    # Nothing was written, but ending the read transaction here releases SQLite's lock
    # (every transaction takes it) before the slow rendering or a long download.
    db.session.commit()
    return _export(render(), fmt, start, end)


PART2_NOTICE = (
    "This record which has been disclosed to you is protected by Federal confidentiality "
    "rules (42 CFR part 2). It may not be used or disclosed in proceedings against the "
    "patient, or otherwise redisclosed, except as 42 CFR part 2 permits."
)


def _disclosure(share, patient: User, counselor: User) -> tuple[str, ...]:
    """The Part 2 notice and a plain summary of the consent this export relies on."""
    notes = "including notes" if share.include_notes else "without notes"
    return (
        PART2_NOTICE,
        f"Disclosed to {counselor.display_name} with {patient.display_name}'s consent "
        f'(share {share.id}): purpose "{share.purpose}"; scope {", ".join(share.scope)}, '
        f"{notes}; valid until {share.expires_on.isoformat()} unless revoked earlier.",
    )


def counselor_export(
    *, counselor: User, patient_id: str, start: date | None, end: date | None, fmt: str
) -> Export:
    """Export a sharing patient's log within the share; notes only if it includes them."""
    with patients_service.disclosure(counselor, patient_id, "export", "export") as (
        share,
        patient,
        detail,
    ):
        start, end = resolve_range(patient, start, end)
        include_notes = policy.may_see_notes(share)
        render = _prepare(
            patient,
            start,
            end,
            fmt,
            include_notes=include_notes,
            disclosure=_disclosure(share, patient, counselor),
        )
        # Recorded and committed on leaving the block: before a single byte is sent.
        detail.update(format=fmt, notes_included=include_notes, start=start, end=end)
    return _export(render(), fmt, start, end)


def _export(body: bytes | Iterator[str], fmt: str, start: date, end: date) -> Export:
    """Wrap a body with its media type and download name."""
    media_type, extension = MEDIA_TYPES[fmt]
    filename = f"steady-{start.isoformat()}-{end.isoformat()}.{extension}"
    return Export(body=body, media_type=media_type, filename=filename)


def _prepare(
    patient: User, start: date, end: date, fmt: str, *, include_notes: bool, disclosure=()
) -> Render:
    """Read what the format needs now; return a renderer that no longer needs the session."""
    produced_at = utcnow()
    if fmt == "csv":
        return _prepare_csv(patient, start, end, produced_at, include_notes)
    if fmt == "pdf":
        return _prepare_pdf(patient, start, end, produced_at, include_notes, disclosure)
    return _prepare_fhir(patient, start, end, produced_at, include_notes)


def _row_query(patient_id: str, start: date, end: date, include_notes: bool):
    """Plain rows (not ORM objects) of the check-ins in range, in date order."""
    total = (Checkin.nausea + Checkin.aches + Checkin.anxiety + Checkin.insomnia).label("total")
    # Without consent to notes, the note never even leaves the database.
    note = Checkin.note if include_notes else null().label("note")
    return (
        select(
            Checkin.date,
            Checkin.nausea,
            Checkin.aches,
            Checkin.anxiety,
            Checkin.insomnia,
            Checkin.diarrhea,
            Checkin.vomiting,
            Checkin.cravings,
            Checkin.sleep_hours,
            Checkin.used_opioids,
            Checkin.crisis,
            note,
            total,
            Checkin.updated_at,
        )
        .where(Checkin.patient_id == patient_id, Checkin.date.between(start, end))
        .order_by(Checkin.date)
    )


def _paged_rows(engine: Engine, query) -> Iterator:
    """Yield rows a page at a time, each page in its own short transaction.

    Keyset pages (date is unique per patient) keep memory flat, and a slow download
    holds neither a pooled connection nor SQLite's lock between pages.
    """
    after = None
    while True:
        page_query = query if after is None else query.where(Checkin.date > after)
        with engine.connect() as connection:
            page = connection.execute(page_query.limit(CSV_PAGE_ROWS)).all()
        yield from page
        if len(page) < CSV_PAGE_ROWS:
            return
        after = page[-1].date


def _batched(chunks: Iterable[str], size: int = CSV_CHUNK_CHARS) -> Iterator[str]:
    """Join small CSV chunks so the server writes a few large blocks, not a row each."""
    buffer: list[str] = []
    length = 0
    for chunk in chunks:
        buffer.append(chunk)
        length += len(chunk)
        if length >= size:
            yield "".join(buffer)
            buffer, length = [], 0
    if buffer:
        yield "".join(buffer)


def _prepare_csv(
    patient: User, start: date, end: date, produced_at: datetime, include_notes: bool
) -> Render:
    """Nothing is read up front: rows are paged while the response streams."""
    query = _row_query(patient.id, start, end, include_notes)
    engine = db.engine

    def render() -> Iterator[str]:
        rows = _paged_rows(engine, query)
        chunks = iter_csv(
            rows, start=start, end=end, produced_at=produced_at, include_notes=include_notes
        )
        return _batched(chunks)

    return render


def _assessment(patient: User) -> dict | None:
    """The latest assessment's level and reasons, or None before any check-in."""
    status = assessments_service.status(patient)
    if status["level"] == "no_data":
        return None
    return {
        "level": status["level"],
        "reasons": status["reasons"],
        "checkin_date": status["checkin_date"],
    }


def _resources(region: str) -> list[dict]:
    """Crisis, treatment and support resources for the region, as plain dicts."""
    fields = ("name", "kind", "phone", "sms", "url", "hours", "description")
    return [
        {name: getattr(resource, name) for name in fields}
        for resource in resources_service.list_resources(region=region, kinds=RESOURCE_KINDS)
    ]


def _chart(days: list[dict], end: date):
    """The trend chart of the range, or of its last year when the range is longer."""
    from server.trends.chart import render_chart_image  # matplotlib loads only when needed

    title = None
    if len(days) > CHART_MAX_DAYS:
        days = days[-CHART_MAX_DAYS:]
        title = f"Last {CHART_MAX_DAYS} days of the range ({days[0]['date']} to {end})"
    return render_chart_image(days, title=title)


def _prepare_pdf(
    patient: User,
    start: date,
    end: date,
    produced_at: datetime,
    include_notes: bool,
    disclosure: tuple[str, ...],
) -> Render:
    """Read the summary, assessment, log and resources; render the report later."""
    trends = trends_service.trends_for(patient, start, end)
    report = {
        "display_name": patient.display_name,
        "region": patient.region,
        "start": start,
        "end": end,
        "produced_at": produced_at,
        "days_logged": trends["days_logged"],
        "days_in_range": trends["days_in_range"],
        "summary": trends["summary"],
        "assessment": _assessment(patient),
        "checkins": db.session.execute(_row_query(patient.id, start, end, include_notes)).all(),
        "include_notes": include_notes,
        "resources": _resources(patient.region),
        "disclosure": disclosure,
    }

    def render() -> bytes:
        return build_pdf(PdfReport(chart=_chart(trends["days"], end), **report))

    return render


def _prepare_fhir(
    patient: User, start: date, end: date, produced_at: datetime, include_notes: bool
) -> Render:
    """Read the check-ins; build the Bundle later."""
    rows = db.session.execute(_row_query(patient.id, start, end, include_notes)).all()
    patient_id, display_name = patient.id, patient.display_name
    base_url = current_app.config["FHIR_BASE_URL"]

    def render() -> bytes:
        bundle = build_bundle(
            patient_id=patient_id,
            display_name=display_name,
            checkins=rows,
            start=start,
            end=end,
            produced_at=produced_at,
            include_notes=include_notes,
            base_url=base_url,
        )
        return json.dumps(bundle, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    return render
