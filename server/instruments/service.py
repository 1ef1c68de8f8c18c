"""Instrument use cases: patients' SOWS responses and clinicians' COWS observations."""

from datetime import date

from sqlalchemy import select

from server.extensions import db
from server.instruments.definitions import Recorded
from server.instruments.models import InstrumentObservation, InstrumentResponse

# --- Reads for exports ---------------------------------------------------------------------


def recorded_in_range(patient_id: str, start: date, end: date) -> list[Recorded]:
    """A patient's responses and observations for days in [start, end], by day then time.

    Two queries (one per table), whatever the range: exports read this once, not per day.
    A response's time is when its current version was entered; an observation's is when
    it was observed.
    """
    responses = db.session.scalars(
        select(InstrumentResponse).where(
            InstrumentResponse.patient_id == patient_id,
            InstrumentResponse.date.between(start, end),
        )
    )
    observations = db.session.scalars(
        select(InstrumentObservation).where(
            InstrumentObservation.patient_id == patient_id,
            InstrumentObservation.date.between(start, end),
        )
    )
    recorded = [
        Recorded(
            id=row.id,
            instrument_id=row.instrument_id,
            instrument_version=row.instrument_version,
            day=row.date,
            recorded_at=row.updated_at,
            observed_at=None,
            items=dict(row.items),
            total=row.total,
            band=row.band,
        )
        for row in responses
    ]
    recorded += [
        Recorded(
            id=row.id,
            instrument_id=row.instrument_id,
            instrument_version=row.instrument_version,
            day=row.date,
            recorded_at=row.created_at,
            observed_at=row.observed_at,
            items=dict(row.items),
            total=row.total,
            band=row.band,
        )
        for row in observations
    ]
    # The id last: two results at the same moment still come in one stable order.
    recorded.sort(key=lambda r: (r.day, r.observed_at or r.recorded_at, r.instrument_id, r.id))
    return recorded
