"""Store scored instrument results directly, for features that read them (exports).

The instruments API is built separately; until then tests create rows through the models,
scored by the same definitions the API uses.
"""

import uuid
from datetime import date, datetime

from server.extensions import db
from server.instruments.definitions import INSTRUMENTS, score
from server.instruments.models import InstrumentObservation, InstrumentResponse


def items_totalling(instrument_id: str, total: int) -> dict[str, int]:
    """A complete, valid set of items whose points add up to `total` (greedy, item order)."""
    items, left = {}, total
    for item in INSTRUMENTS[instrument_id].items:
        value = max((v for v in item.values if v <= left), default=0)
        items[item.item_id] = value
        left -= value
    if left:
        raise ValueError(f"{instrument_id} cannot total {total} this way")
    return items


def record_response(
    app, patient_id: str, instrument_id: str, day: date, items: dict, *, at: datetime
) -> str:
    """Store a patient's scored self-report for a day, entered at `at`; return its id."""
    instrument = INSTRUMENTS[instrument_id]
    scored = score(instrument, items)
    with app.app_context():
        row = InstrumentResponse(
            patient_id=patient_id,
            instrument_id=instrument.id,
            instrument_version=instrument.version,
            date=day,
            items=items,
            total=scored.total,
            band=scored.band.code if scored.band else None,
            version=uuid.uuid4().hex,
            created_at=at,
            updated_at=at,
        )
        db.session.add(row)
        db.session.commit()
        return row.id


def record_observation(
    app, patient_id: str, observer_id: str, day: date, items: dict, *, observed_at: datetime
) -> str:
    """Store a clinician's scored COWS observation on the patient's local `day`; its id."""
    instrument = INSTRUMENTS["cows-11"]
    scored = score(instrument, items)
    with app.app_context():
        row = InstrumentObservation(
            patient_id=patient_id,
            observer_id=observer_id,
            instrument_id=instrument.id,
            instrument_version=instrument.version,
            observed_at=observed_at,
            date=day,
            items=items,
            total=scored.total,
            band=scored.band.code if scored.band else None,
            created_at=observed_at,
            updated_at=observed_at,
        )
        db.session.add(row)
        db.session.commit()
        return row.id
