"""Instrument results for tests, stored as the instrument writes store them.

The only place tests create SOWS responses and COWS observations: each is scored with
the real definitions, written in one transaction and announced (as the writes do) before
it commits. Once the instruments API lands, these can go through HTTP instead.
"""

import uuid
from datetime import date

from server.auth.models import Principal, User
from server.db import begin_write, utcnow
from server.extensions import db
from server.instruments.definitions import COWS, INSTRUMENTS, SOWS_GOSSOP, Instrument, score
from server.instruments.models import InstrumentObservation, InstrumentResponse
from server.instruments.service import announce_recorded


def items_totalling(instrument: Instrument, total: int) -> dict[str, int]:
    """Allowed item values that add up to `total` (ValueError if none do)."""
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


def record_response(app, patient, day: date, total: int, instrument_id: str = SOWS_GOSSOP.id):
    """A patient's SOWS response for a day with the given total (replacing that day's)."""
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
        db.session.add(stored)
        db.session.flush()
        announce_recorded(_principal(patient.id), day)
        db.session.commit()


def record_observation(app, patient, day: date, total: int, observer=None):
    """A clinician's COWS observation of a patient on a day with the given total."""
    items = items_totalling(COWS, total)
    scored = score(COWS, items)
    with app.app_context():
        begin_write(db.session)
        db.session.add(
            InstrumentObservation(
                patient_id=patient.id,
                observer_id=observer.id if observer else None,
                instrument_id=COWS.id,
                instrument_version=COWS.version,
                observed_at=utcnow(),
                date=day,
                items=items,
                total=scored.total,
                band=scored.band.code if scored.band else None,
            )
        )
        db.session.flush()
        announce_recorded(_principal(patient.id), day)
        db.session.commit()
