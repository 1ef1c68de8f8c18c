"""Instrument results for tests, stored as the instrument writes store them.

The only place tests create SOWS responses and COWS observations: each is scored with
the real definitions, written in one transaction and announced (as the writes do) before
it commits. Unlike the API they take any day, any total and fixed times, so a test can
build a history directly (tests of the API itself go through HTTP).
"""

import uuid
from datetime import date, datetime

from server.auth.models import Principal, User
from server.db import begin_write, utcnow
from server.extensions import db
from server.instruments.definitions import COWS, INSTRUMENTS, SOWS_GOSSOP, Instrument, score
from server.instruments.models import InstrumentObservation, InstrumentResponse
from server.instruments.service import announce_recorded


def items_totalling(instrument: Instrument | str, total: int) -> dict[str, int]:
    """Allowed item values that add up to `total` (ValueError if none do)."""
    if isinstance(instrument, str):
        instrument = INSTRUMENTS[instrument]
    # The totals reachable after each item, with the value that item took to get there.
    reachable: list[dict[int, int]] = [{0: 0}]
    for item in instrument.items:
        sums = reachable[-1]
        reachable.append({s + v: v for s in sums for v in item.values if s + v <= total})
    if total not in reachable[-1]:
        raise ValueError(f"{instrument.id} cannot total {total}")
    items, remaining = {}, total
    for item, sums in zip(reversed(instrument.items), reversed(reachable), strict=False):
        items[item.item_id] = sums[remaining]
        remaining -= sums[remaining]
    return items


def _principal(patient_id: str) -> Principal:
    """The patient as the writes know them."""
    user = db.session.get(User, patient_id)
    return Principal(user.id, user.role, user.display_name, user.timezone, user.region)


def record_response(
    app,
    patient,
    day: date,
    total: int,
    instrument_id: str = SOWS_GOSSOP.id,
    *,
    at: datetime | None = None,
) -> str:
    """A patient's SOWS response for a day with the given total (replacing that day's); its id.

    `at` fixes when it was entered (default: now).
    """
    instrument = INSTRUMENTS[instrument_id]
    items = items_totalling(instrument, total)
    scored = score(instrument, items)
    with app.app_context():
        begin_write(db.session)
        stored = db.session.scalar(
            db.select(InstrumentResponse).filter_by(
                patient_id=patient.id, instrument_id=instrument.id, date=day
            )
        ) or InstrumentResponse(patient_id=patient.id, instrument_id=instrument.id, date=day)
        stored.instrument_version = instrument.version
        stored.items, stored.total = items, scored.total
        stored.band = scored.band.code if scored.band else None
        stored.version = uuid.uuid4().hex
        if at is not None:
            stored.created_at = stored.updated_at = at
        db.session.add(stored)
        db.session.flush()
        announce_recorded(_principal(patient.id), day)
        db.session.commit()
        return stored.id


def record_observation(
    app, patient, day: date, total: int, observer=None, *, observed_at: datetime | None = None
) -> str:
    """A clinician's COWS observation of a patient on a day with the given total; its id.

    `observed_at` (default: now) is also when it was entered.
    """
    items = items_totalling(COWS, total)
    scored = score(COWS, items)
    moment = observed_at or utcnow()
    with app.app_context():
        begin_write(db.session)
        row = InstrumentObservation(
            patient_id=patient.id,
            observer_id=observer.id if observer else None,
            instrument_id=COWS.id,
            instrument_version=COWS.version,
            observed_at=moment,
            date=day,
            items=items,
            total=scored.total,
            band=scored.band.code if scored.band else None,
            created_at=moment,
            updated_at=moment,
        )
        db.session.add(row)
        db.session.flush()
        announce_recorded(_principal(patient.id), day)
        db.session.commit()
        return row.id
