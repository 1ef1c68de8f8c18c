"""Export use cases: a patient's own log, or a sharing patient's log for a counselor."""

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from server.auth.models import Principal
from server.checkins import service as checkins_service
from server.common.dates import resolve_range as resolve_dates
from server.common.settings import settings
from server.db import utcnow
from server.episodes import service as episodes_service
from server.errors import ApiError, ValidationFailed
from server.exports import leases
from server.exports.csv_export import iter_csv
from server.exports.fhir_bundle import iter_bundle
from server.exports.instrument_pdf import PdfInstruments
from server.exports.pdf_report import PdfReport, build_pdf
from server.extensions import db
from server.instruments import service as instruments_service
from server.instruments.definitions import CLINICIAN_INSTRUMENTS, Recorded
from server.resources import service as resources_service
from server.sharing import policy
from server.trends import service as trends_service
from server.trends.calculations import with_judgements

# format → (media type, file extension)
MEDIA_TYPES = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "pdf": ("application/pdf", "pdf"),
    "fhir": ("application/fhir+json", "json"),
}
DEFAULT_RANGE_DAYS = 30
MAX_RANGE_DAYS = 3653  # ten years, leap days included
# An appointment report covers at most a year: bounded pages and rendering time.
MAX_PDF_DAYS = 366
RESOURCE_KINDS = ("emergency", "crisis", "harm_reduction", "treatment", "helpline")
EXPORT_PAGE_ROWS = 250
CHUNK_CHARS = 16 * 1024
PDF_CHUNK_BYTES = 64 * 1024
PDF_BUSY_RETRY_SECONDS = 5

Render = Callable[[], bytes | Iterator[str]]


@dataclass(frozen=True)
class Export:
    """An export's body (chunks that hold the person's lease until sent) and its naming."""

    body: leases.LeasedBody
    media_type: str
    filename: str
    # Known for the PDF (rendered before sending); CSV and FHIR stream.
    length: int | None = None


class PdfRenderersBusy(ApiError):
    """Every PDF render slot of this process is taken."""

    status, slug = 503, "unavailable"


def resolve_range(patient: Principal, start: date | None, end: date | None, fmt: str):
    """Apply the default (last 30 days in the patient's zone) and the limits."""
    start, end = resolve_dates(
        patient.timezone,
        start,
        end,
        default_days=DEFAULT_RANGE_DAYS,
        max_days=MAX_RANGE_DAYS,
        max_label="10 years",
    )
    if fmt == "pdf" and (end - start).days + 1 > MAX_PDF_DAYS:
        rule = (
            f"A PDF report covers at most {MAX_PDF_DAYS} days; for a longer range use "
            "format=csv or format=fhir (up to 10 years)."
        )
        raise ValidationFailed(
            "The range is too long for a PDF.", errors={"from": [rule], "to": [rule]}
        )
    return start, end


@contextmanager
def _render_slot(fmt: str):
    """Hold one of the process's PDF render slots, or answer 503 at once."""
    if fmt != "pdf":
        yield
        return
    slots = settings().pdf_render_slots
    if not slots.acquire(blocking=False):
        raise PdfRenderersBusy(
            "Too many reports are being prepared right now; please try again shortly.",
            headers={"Retry-After": str(PDF_BUSY_RETRY_SECONDS)},
        )
    try:
        yield
    finally:
        slots.release()


def patient_export(patient: Principal, start: date | None, end: date | None, fmt: str) -> Export:
    """Export a patient's own log (notes included)."""
    start, end = resolve_range(patient, start, end, fmt)
    with _render_slot(fmt):
        render = _prepare(patient, start, end, fmt, include_notes=True)
        lease = leases.take(patient.id)
        # Only the lease was written; committing here also hands the connection back
        # before the slow rendering or a long download.
        db.session.commit()
        return _export(render, lease, fmt, start, end)


PART2_NOTICE = (
    "This record which has been disclosed to you is protected by Federal confidentiality "
    "rules (42 CFR part 2). It may not be used or disclosed in proceedings against the "
    "patient, or otherwise redisclosed, except as 42 CFR part 2 permits."
)


def _disclosure(share, patient: Principal, counselor: Principal) -> tuple[str, ...]:
    """The Part 2 notice and a plain summary of the consent this export relies on."""
    notes = "including notes" if policy.may_see_notes(share) else "without notes"
    return (
        PART2_NOTICE,
        f"Disclosed to {counselor.display_name} with {patient.display_name}'s consent "
        f'(share {share.id}): purpose "{share.purpose}"; scope {", ".join(share.scope)}, '
        f"{notes}; valid until {share.expires_on.isoformat()} unless revoked earlier.",
    )


def counselor_export(
    *, counselor: Principal, patient_id: str, start: date | None, end: date | None, fmt: str
) -> Export:
    """Export a sharing patient's log within the share; notes only if it includes them.

    The lease is the counselor's: one export in flight per person asking.
    """
    with _render_slot(fmt):
        with policy.disclosure(counselor, patient_id, "export", "export") as (
            share,
            patient,
            detail,
        ):
            start, end = resolve_range(patient, start, end, fmt)
            include_notes = policy.may_see_notes(share)
            render = _prepare(
                patient,
                start,
                end,
                fmt,
                include_notes=include_notes,
                include_observations=policy.may_see_observations(share),
                disclosure=_disclosure(share, patient, counselor),
                counselor=counselor,
            )
            lease = leases.take(counselor.id)
            # Recorded and committed on leaving the block: before a single byte is sent.
            detail.update(format=fmt, notes_included=include_notes, start=start, end=end)
        return _export(render, lease, fmt, start, end)


def _export(render: Render, lease: leases.Lease, fmt: str, start: date, end: date) -> Export:
    """Render (or start streaming) the body under the lease; name the download."""
    try:
        body = render()
    except BaseException:
        lease.release()
        raise
    length = None
    if isinstance(body, bytes):
        length = len(body)
        # Sent in slices, so the lease is renewed between them for a slow client.
        body = [body[i : i + PDF_CHUNK_BYTES] for i in range(0, length, PDF_CHUNK_BYTES)]
    media_type, extension = MEDIA_TYPES[fmt]
    filename = f"steady-{start.isoformat()}-{end.isoformat()}.{extension}"
    return Export(
        body=leases.LeasedBody(body, lease),
        media_type=media_type,
        filename=filename,
        length=length,
    )


def _prepare(
    patient: Principal,
    start: date,
    end: date,
    fmt: str,
    *,
    include_notes: bool,
    include_observations: bool = True,
    disclosure=(),
    counselor: Principal | None = None,
) -> Render:
    """Read what the format needs now; return a renderer that no longer needs the session.

    `counselor` is who the export is for when it is not the patient's own; clinicians'
    observations (COWS) are in it only when `include_observations` (a share with `assess`).
    """
    produced_at = utcnow()
    # One read for the whole range, whatever the format: a few results a day at most.
    instruments = [
        result
        for result in instruments_service.recorded_in_range(patient.id, start, end)
        if include_observations or result.instrument_id not in CLINICIAN_INSTRUMENTS
    ]
    if fmt == "csv":
        return _prepare_csv(patient, start, end, produced_at, include_notes, instruments)
    if fmt == "pdf":
        return _prepare_pdf(
            patient, start, end, produced_at, include_notes, disclosure, counselor, instruments
        )
    return _prepare_fhir(patient, start, end, produced_at, include_notes, instruments)


def _batched(chunks: Iterable[str], size: int) -> Iterator[str]:
    """Join small chunks so the server writes a few large blocks, not a row each."""
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


def _streamed_rows(
    patient: Principal, start: date, end: date, include_notes: bool
) -> Callable[[], Iterator[Any]]:
    """The range's rows with their episode days, read in pages when the stream asks.

    The query and the episodes are prepared now, inside the request's session; the pages
    are read later on a connection of their own, while the response streams.
    """
    query = checkins_service.export_rows_query(patient.id, start, end, include_notes=include_notes)
    engine = db.engine
    number = episodes_service.day_numbering(patient)

    def rows() -> Iterator[Any]:
        paged = checkins_service.paged_export_rows(engine, query, EXPORT_PAGE_ROWS)
        return checkins_service.with_episode_days(paged, number, include_notes=include_notes)

    return rows


def _prepare_csv(
    patient: Principal,
    start: date,
    end: date,
    produced_at: datetime,
    include_notes: bool,
    instruments: list[Recorded],
) -> Render:
    """Nothing is read up front: rows are paged while the response streams."""
    rows = _streamed_rows(patient, start, end, include_notes)

    def render() -> Iterator[str]:
        chunks = iter_csv(
            rows(),
            start=start,
            end=end,
            produced_at=produced_at,
            include_notes=include_notes,
            instruments=instruments,
        )
        return _batched(chunks, CHUNK_CHARS)

    return render


def _assessment(patient: Principal, counselor: Principal | None) -> dict | None:
    """The latest assessment's level and reasons for the reader, or None before any check-in."""
    status = checkins_service.status(patient, viewer=counselor)
    if status["level"] == "no_data":
        return None
    return {
        "level": status["level"],
        "reasons": status["reasons"],
        "checkin_date": status["checkin_date"],
    }


def _resources(region: str) -> list[dict]:
    """Crisis, treatment and support resources for the region, as plain dicts."""
    fields = ("name", "kind", "display", "url", "hours", "description")
    return [
        {name: getattr(resource, name) for name in fields}
        for resource in resources_service.list_resources(region=region, kinds=RESOURCE_KINDS)
    ]


def _chart(days: list[dict], judged: dict) -> dict:
    """The trend chart of the range (at most a year) with its flagged days, and its words."""
    from server.trends.chart import chart_alt_text, chart_figure  # matplotlib when needed

    judged_days = with_judgements(days, judged)
    return {"chart": chart_figure(judged_days), "chart_description": chart_alt_text(judged_days)}


def _prepare_pdf(
    patient: Principal,
    start: date,
    end: date,
    produced_at: datetime,
    include_notes: bool,
    disclosure: tuple[str, ...],
    counselor: Principal | None,
    instruments: list[Recorded],
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
        "assessment": _assessment(patient, counselor),
        "checkins": checkins_service.export_days(patient, start, end, include_notes=include_notes),
        "include_notes": include_notes,
        "resources": _resources(patient.region),
        "disclosure": disclosure,
        "timezone": patient.timezone,
        # The same judgement the API gives each day, so the PDF's levels never disagree.
        "judgements": checkins_service.judged_in_range(patient.id, start, end),
        "instruments": PdfInstruments(instruments, patient.timezone),
    }

    def render() -> bytes:
        return build_pdf(PdfReport(**_chart(trends["days"], report["judgements"]), **report))

    return render


def _prepare_fhir(
    patient: Principal,
    start: date,
    end: date,
    produced_at: datetime,
    include_notes: bool,
    instruments: list[Recorded],
) -> Render:
    """Nothing is read up front: days are paged and encoded while the response streams."""
    rows = _streamed_rows(patient, start, end, include_notes)
    patient_id, display_name = patient.id, patient.display_name
    base_url = settings().fhir_base_url

    def render() -> Iterator[str]:
        chunks = iter_bundle(
            patient_id=patient_id,
            display_name=display_name,
            checkins=rows(),
            start=start,
            end=end,
            produced_at=produced_at,
            include_notes=include_notes,
            base_url=base_url,
            instruments=instruments,
        )
        return _batched(chunks, CHUNK_CHARS)

    return render
