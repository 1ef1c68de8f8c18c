"""Instrument use cases and every query of the instrument tables, scoped to one patient.

A patient's SOWS responses are kept one per instrument and local day, written like
check-ins (ETag per write, If-Match / If-None-Match, a repeated PUT is a no-op); a COWS
observation is recorded by a counselor through a share that includes `assess`. Only a
complete response with allowed values is stored, so every stored total is a real one.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from operator import itemgetter
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, delete, select, tuple_, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from server.auth.models import Principal, User
from server.common.conditional import Failure, Preconditions, precondition_refusal
from server.common.dates import check_loggable_day, past_moment_rule, resolve_range
from server.common.pagination import fetch_page, page_of
from server.db import begin_write, new_id, retry_on_conflict, utcnow
from server.errors import Conflict, NotFound, PreconditionFailed, Unauthorized, ValidationFailed
from server.extensions import db
from server.instruments.definitions import (
    COWS,
    INSTRUMENTS,
    PATIENT,
    Instrument,
    Recorded,
    Scored,
    item_errors,
    score,
)
from server.instruments.models import InstrumentObservation, InstrumentResponse
from server.instruments.signals import result_recorded
from server.sharing import policy

LIST_DEFAULT_DAYS = 90
SIGNED_OUT = "This sign-in has ended. Sign in again."
NO_PRECONDITIONS = Preconditions()

# --- Instruments -------------------------------------------------------------------------


def describe(instrument: Instrument) -> dict:
    """An instrument as the API shows it: items and anchors, total range, bands, source."""
    return {
        "id": instrument.id,
        "version": instrument.version,
        "name": instrument.name,
        "completed_by": instrument.completed_by,
        "timing": instrument.timing,
        "items": [
            {
                "item_id": item.item_id,
                "label": item.label,
                "options": [{"value": o.value, "anchor": o.anchor} for o in item.options],
            }
            for item in instrument.items
        ],
        "total_range": {"min": instrument.total_min, "max": instrument.total_max},
        "bands": [
            {"code": band.code, "label": band.label, "min": band.low, "max": band.high}
            for band in instrument.bands
        ],
        "citation": instrument.citation,
        "interpretation": instrument.interpretation,
    }


def list_instruments() -> dict:
    """Every instrument Steady scores."""
    return {"items": [describe(instrument) for instrument in INSTRUMENTS.values()]}


def instrument_or_404(instrument_id: str) -> Instrument:
    """The instrument with this versioned id, or 404."""
    instrument = INSTRUMENTS.get(instrument_id)
    if instrument is None:
        raise NotFound(f"There is no instrument {instrument_id!r}; GET /api/v1/instruments.")
    return instrument


def patient_instrument_or_404(instrument_id: str) -> Instrument:
    """An instrument patients answer themselves, or 404 (unknown, or a clinician's)."""
    instrument = instrument_or_404(instrument_id)
    if instrument.completed_by != PATIENT:
        raise NotFound(
            f"{instrument.id} is observed by a clinician, not answered by the patient: it has "
            "no patient responses (a counselor records it as an observation)."
        )
    return instrument


def scored_items(instrument: Instrument, items: dict) -> Scored:
    """Score a complete response, or 422 naming every missing, unknown or invalid item."""
    errors = item_errors(instrument, items)
    if errors:
        raise ValidationFailed(
            f"Every item of {instrument.id} must be answered with one of its values, and no "
            "other item sent; see errors.",
            errors={f"items.{item_id}": messages for item_id, messages in errors.items()},
        )
    return score(instrument, items)


def _ordered(instrument: Instrument, items: dict) -> dict[str, int]:
    """The items in the instrument's order (as stored and shown)."""
    return {item_id: items[item_id] for item_id in instrument.item_ids}


# --- Patients' responses -----------------------------------------------------------------

_responses = InstrumentResponse.__table__
_r = _responses.c
RESPONSE_ROW = (
    _r.instrument_id,
    _r.instrument_version,
    _r.date,
    _r["items"],
    _r.total,
    _r.band,
    _r.version,
    _r.created_at,
    _r.updated_at,
)
_THE_RESPONSE = (
    _r.patient_id == bindparam("owner"),
    _r.instrument_id == bindparam("instrument"),
    _r.date == bindparam("day"),
)
_RESPONSE = select(*RESPONSE_ROW).where(*_THE_RESPONSE)
_RESPONSES_IN_RANGE = (
    select(*RESPONSE_ROW)
    .where(
        _r.patient_id == bindparam("owner"),
        _r.instrument_id == bindparam("instrument"),
        _r.date.between(bindparam("start"), bindparam("end")),
    )
    .order_by(_r.date)
)
_NEW_CONTENT = ("instrument_version", "items", "total", "band", "version")
# SET parameters may not share the columns' names, hence "new_".
_NEW_VALUES = {
    **{name: bindparam(f"new_{name}") for name in _NEW_CONTENT},
    "updated_at": bindparam("now"),
}
_REPLACE_EXISTING = (
    update(_responses).where(*_THE_RESPONSE).values(_NEW_VALUES).returning(*RESPONSE_ROW)
)
_CONDITIONAL_UPDATE = (
    update(_responses)
    .where(*_THE_RESPONSE, _r.version == bindparam("expected"))
    .values(_NEW_VALUES)
    .returning(*RESPONSE_ROW)
)
_DELETE_RESPONSE = delete(_responses).where(*_THE_RESPONSE)


def _build_upsert(dialect, *, create_only: bool):
    """Insert the day's response, or (unless create-only) replace it: one atomic statement."""
    insert = dialect.insert(_responses)
    key = [_r.patient_id, _r.instrument_id, _r.date]
    if create_only:
        return insert.on_conflict_do_nothing(index_elements=key).returning(*RESPONSE_ROW)
    replaced = {name: insert.excluded[name] for name in (*_NEW_CONTENT, "updated_at")}
    return insert.on_conflict_do_update(index_elements=key, set_=replaced).returning(*RESPONSE_ROW)


_UPSERT = {
    (name, create_only): _build_upsert(dialect, create_only=create_only)
    for name, dialect in (("sqlite", sqlite), ("postgresql", postgresql))
    for create_only in (False, True)
}


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """A stored response as the API shows it, with the version its ETag is made of."""

    instrument_id: str
    instrument_version: str
    date: date
    items: dict
    total: int
    band: str | None
    version: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class SavedResponse:
    """A stored response and whether the PUT created it."""

    row: StoredResponse
    created: bool


def response_etag(row: StoredResponse) -> str:
    """Strong entity tag of a stored response's current version."""
    return f'"{row.version}"'


def _stored(row) -> StoredResponse | None:
    """A StoredResponse of a row, if there is one."""
    return None if row is None else StoredResponse(*row)


def _response(patient_id: str, instrument_id: str, day: date) -> StoredResponse | None:
    """A patient's response to an instrument for a day, if any."""
    params = {"owner": patient_id, "instrument": instrument_id, "day": day}
    return _stored(db.session.execute(_RESPONSE, params).first())


def get_response_or_404(patient: Principal, instrument_id: str, day: date) -> StoredResponse:
    """A patient's own response to an instrument for a day, or 404."""
    instrument = patient_instrument_or_404(instrument_id)
    row = _response(patient.id, instrument.id, day)
    if row is None:
        raise NotFound(f"There is no {instrument.id} response for this day.")
    return row


def list_responses(
    patient: Principal,
    instrument_id: str,
    start: date | None,
    end: date | None,
    page: int,
    page_size: int,
) -> dict:
    """One page of a patient's responses to an instrument in date order (default: 90 days)."""
    instrument = patient_instrument_or_404(instrument_id)
    start, end = resolve_range(patient.timezone, start, end, default_days=LIST_DEFAULT_DAYS)
    params = {"owner": patient.id, "instrument": instrument.id, "start": start, "end": end}
    rows, total = fetch_page(
        db.session, _RESPONSES_IN_RANGE, params, page=page, page_size=page_size
    )
    body = page_of(
        [StoredResponse(*row) for row in rows], page=page, page_size=page_size, total_items=total
    )
    return {**body, "start": start, "end": end}


def _refused(
    preconditions: Preconditions, failure: Failure, existing: StoredResponse | None
) -> PreconditionFailed:
    """The 412 of a PUT ruled out by If-Match or If-None-Match, saying which case it is."""
    etag = response_etag(existing) if existing else None
    return precondition_refusal(preconditions, failure, etag, "response")


def _write_response(
    patient: Principal,
    instrument: Instrument,
    day: date,
    content: dict,
    preconditions: Preconditions,
    existing: StoredResponse | None,
) -> tuple[StoredResponse, bool]:
    """Store the day's response in one statement in which the conditions hold; (row, created)."""
    dialect = db.session.get_bind().dialect.name
    now = utcnow()
    if preconditions.if_match is None:
        # Unconditional: an atomic upsert, so a concurrent PUT of the same day is never
        # mistaken for a stale If-Match; the last write wins, as the client asked.
        statement = _UPSERT[dialect, preconditions.create_only]
        values = {
            **content,
            "id": new_id(),
            "patient_id": patient.id,
            "instrument_id": instrument.id,
            "date": day,
            "created_at": now,
            "updated_at": now,
        }
        row = db.session.execute(statement, values).first()
        if row is None:  # PostgreSQL: another request created the day since we read it
            raise _refused(preconditions, Failure.EXISTS, None)
        return StoredResponse(*row), row.created_at == now
    params = {
        **{f"new_{name}": value for name, value in content.items()},
        "owner": patient.id,
        "instrument": instrument.id,
        "day": day,
        "now": now,
    }
    if preconditions.if_match.star_tag:
        row = db.session.execute(_REPLACE_EXISTING, params).first()
    else:
        row = db.session.execute(_CONDITIONAL_UPDATE, {**params, "expected": existing.version})
        row = row.first()
    if row is None:  # PostgreSQL: another request changed or deleted the day since
        raise _refused(preconditions, Failure.CHANGED, None)
    return StoredResponse(*row), False


@retry_on_conflict
def save_response(
    *,
    patient: Principal,
    instrument_id: str,
    day: date,
    items: dict,
    preconditions: Preconditions = NO_PRECONDITIONS,
) -> SavedResponse:
    """Create or replace a patient's complete response for a day, scored, in one commit."""
    instrument = patient_instrument_or_404(instrument_id)
    check_loggable_day(patient.timezone, day)
    scored = scored_items(instrument, items)
    items = _ordered(instrument, items)
    begin_write(db.session)
    existing = _response(patient.id, instrument.id, day)
    if (
        existing is not None
        and existing.items == items
        and existing.instrument_version == instrument.version
    ):
        # A retried PUT whose first attempt already landed: nothing to change, so it
        # succeeds whatever its conditions say (RFC 9110 13.1: the change was applied).
        db.session.commit()
        return SavedResponse(existing, False)
    failure = preconditions.failure(None if existing is None else existing.version)
    if failure is not None:
        db.session.rollback()
        raise _refused(preconditions, failure, existing)
    content = {
        "instrument_version": instrument.version,
        "items": items,
        "total": scored.total,
        "band": scored.band.code if scored.band else None,
        # Random per write, so an ETag never repeats even if a day is re-created.
        "version": new_id().replace("-", ""),
    }
    try:
        row, created = _write_response(patient, instrument, day, content, preconditions, existing)
        announce_recorded(patient, day)
        db.session.commit()
    except PreconditionFailed:
        db.session.rollback()
        raise
    except IntegrityError:
        # The patient's account was deleted while this PUT ran: the sign-in has ended.
        db.session.rollback()
        if db.session.get(User, patient.id) is None:
            raise Unauthorized(SIGNED_OUT) from None
        raise
    return SavedResponse(row, created)


def delete_response(*, patient: Principal, instrument_id: str, day: date) -> None:
    """Delete a patient's response for a day, or 404."""
    instrument = patient_instrument_or_404(instrument_id)
    begin_write(db.session)
    params = {"owner": patient.id, "instrument": instrument.id, "day": day}
    if db.session.execute(_DELETE_RESPONSE, params).rowcount == 0:
        db.session.rollback()
        raise NotFound(f"There is no {instrument.id} response for this day.")
    announce_recorded(patient, day)
    db.session.commit()


def responses_for_counselor(
    *,
    counselor: Principal,
    patient_id: str,
    instrument_id: str,
    start: date | None,
    end: date | None,
    page: int,
    page_size: int,
) -> dict:
    """A page of a sharing patient's responses (share scope `checkins`), logged."""
    with policy.disclosure(counselor, patient_id, "checkins", "instrument_responses_viewed") as (
        _share,
        patient,
        detail,
    ):
        result = list_responses(patient, instrument_id, start, end, page, page_size)
        detail.update(
            instrument_id=instrument_id, start=result["start"], end=result["end"], page=page
        )
    return result


# --- Clinicians' observations ------------------------------------------------------------

_observations = InstrumentObservation.__table__
_o = _observations.c
_observers = User.__table__.alias("observers")
_OBSERVATION_ROW = (
    _o.id,
    _o.instrument_id,
    _o.instrument_version,
    _o.observed_at,
    _o.date,
    _o["items"],
    _o.total,
    _o.band,
    _o.created_at,
    _o.observer_id,
    _observers.c.display_name,
)
_WITH_OBSERVER = _observations.outerjoin(_observers, _observers.c.id == _o.observer_id)
_OBSERVATIONS_IN_RANGE = (
    select(*_OBSERVATION_ROW)
    .select_from(_WITH_OBSERVER)
    .where(
        _o.patient_id == bindparam("owner"), _o.date.between(bindparam("start"), bindparam("end"))
    )
    .order_by(_o.observed_at, _o.id)
)
_SAME_MOMENT = (
    select(*_OBSERVATION_ROW)
    .select_from(_WITH_OBSERVER)
    .where(
        _o.patient_id == bindparam("owner"),
        _o.observer_id == bindparam("observer"),
        _o.observed_at == bindparam("moment"),
    )
)


def _build_insert_new_observation(dialect):
    """Insert an observation unless its observer recorded one at that moment: no row back then."""
    insert = dialect.insert(_observations)
    return insert.on_conflict_do_nothing(
        index_elements=[_o.patient_id, _o.observer_id, _o.observed_at]
    ).returning(_o.id)


_INSERT_NEW_OBSERVATION = {
    "sqlite": _build_insert_new_observation(sqlite),
    "postgresql": _build_insert_new_observation(postgresql),
}


def present_observation(row) -> dict:
    """An observation as the API shows it; the observer is null once their account is gone."""
    *fields, observer_id, observer_name = row
    names = ("id", "instrument_id", "instrument_version", "observed_at", "date")
    body = dict(zip((*names, "items", "total", "band", "created_at"), fields, strict=True))
    body["observer"] = (
        None if observer_id is None else {"id": observer_id, "display_name": observer_name}
    )
    return body


@dataclass(frozen=True, slots=True)
class RecordedObservation:
    """An observation as shown, and whether this POST created it (False: a retry found it)."""

    body: dict
    created: bool


def _check_observed_at(observed_at: datetime) -> None:
    """Allow an observation from 2000 up to now (plus a small clock skew), or 422."""
    rule = past_moment_rule(observed_at)
    if rule is not None:
        raise ValidationFailed(
            "The observation time is out of range.", errors={"observed_at": [rule]}
        )


@retry_on_conflict
def record_observation(
    *, counselor: Principal, patient_id: str, items: dict, observed_at: datetime
) -> RecordedObservation:
    """Record a counselor's COWS about a sharing patient (scope `assess`), logged, one commit.

    The same observer, moment and items again (a retried POST) answer the stored one and
    store nothing; the same observer and moment with other items is a 409.
    """
    instrument = COWS
    _check_observed_at(observed_at)
    scored = scored_items(instrument, items)
    items = _ordered(instrument, items)
    with policy.counselor_record(counselor, patient_id, "assess", "observation_recorded") as (
        _share,
        patient,
        detail,
    ):
        now = utcnow()
        values = {
            "id": new_id(),
            "patient_id": patient.id,
            "observer_id": counselor.id,
            "instrument_id": instrument.id,
            "instrument_version": instrument.version,
            "observed_at": observed_at,
            "date": observed_at.astimezone(ZoneInfo(patient.timezone)).date(),
            "items": items,
            "total": scored.total,
            "band": scored.band.code if scored.band else None,
            "created_at": now,
            "updated_at": now,
        }
        dialect = db.session.get_bind().dialect.name
        created = db.session.execute(_INSERT_NEW_OBSERVATION[dialect], values).first()
        params = {"owner": patient.id, "observer": counselor.id, "moment": observed_at}
        body = present_observation(db.session.execute(_SAME_MOMENT, params).one())
        if created is None and body["items"] != items:
            raise Conflict(
                "You recorded another observation of this patient at this very moment; "
                "an observation is not replaced. Check observed_at.",
                errors={"observed_at": ["You already recorded an observation at this moment."]},
            )
        detail.update(observation_id=body["id"], instrument_id=instrument.id, date=body["date"])
        if created is not None:
            announce_recorded(patient, values["date"])
    return RecordedObservation(body, created is not None)


def list_observations(
    patient: Principal, start: date | None, end: date | None, page: int, page_size: int
) -> dict:
    """One page of the observations about a patient, oldest first (default: 90 days)."""
    start, end = resolve_range(patient.timezone, start, end, default_days=LIST_DEFAULT_DAYS)
    params = {"owner": patient.id, "start": start, "end": end}
    rows, total = fetch_page(
        db.session, _OBSERVATIONS_IN_RANGE, params, page=page, page_size=page_size
    )
    items = [present_observation(row) for row in rows]
    return {
        **page_of(items, page=page, page_size=page_size, total_items=total),
        "start": start,
        "end": end,
    }


def observations_for_counselor(
    *,
    counselor: Principal,
    patient_id: str,
    start: date | None,
    end: date | None,
    page: int,
    page_size: int,
) -> dict:
    """A page of the observations about a sharing patient (share scope `assess`), logged."""
    with policy.disclosure(counselor, patient_id, "assess", "observations_viewed") as (
        _share,
        patient,
        detail,
    ):
        result = list_observations(patient, start, end, page, page_size)
        detail.update(start=result["start"], end=result["end"], page=page)
    return result


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
    recorded = [_recorded(row, row.updated_at, None) for row in responses]
    recorded += [_recorded(row, row.created_at, row.observed_at) for row in observations]
    # The id last: two results at the same moment still come in one stable order.
    recorded.sort(key=lambda r: (r.day, r.observed_at or r.recorded_at, r.instrument_id, r.id))
    return recorded


def _recorded(row, recorded_at: datetime, observed_at: datetime | None) -> Recorded:
    """A stored response or observation as an export reads it."""
    return Recorded(
        id=row.id,
        instrument_id=row.instrument_id,
        instrument_version=row.instrument_version,
        day=row.date,
        recorded_at=recorded_at,
        observed_at=observed_at,
        items=dict(row.items),
        total=row.total,
        band=row.band,
    )


# --- Reads for judgement and trends ------------------------------------------------------
# The SOWS responses and the COWS observations come back together (UNION ALL) in one
# statement per judged range or set of patients, never one per day.

_RESPONSES = InstrumentResponse.__table__.c
_OBSERVATIONS = InstrumentObservation.__table__.c


@dataclass(frozen=True, slots=True)
class DayResult:
    """An instrument's result on a patient's local day (satisfies InstrumentResultLike).

    A COWS may be observed several times a day: the day's result is its highest
    observation, and `results` says how many there were.
    """

    instrument_id: str
    date: date
    total: int
    band: str | None
    results: int


def _of_both_tables(where) -> object:
    """Owner, instrument, day, total and band of the responses and observations `where` picks."""
    return union_all(
        *(
            select(c.patient_id, c.instrument_id, c.date, c.total, c.band).where(where(c))
            for c in (_RESPONSES, _OBSERVATIONS)
        )
    )


_RESULTS_IN_RANGE = _of_both_tables(
    lambda c: and_(
        c.patient_id == bindparam("patient_id"),
        c.date.between(bindparam("start"), bindparam("end")),
    )
)
_RESULTS_ON_DAYS = _of_both_tables(
    lambda c: tuple_(c.patient_id, c.date).in_(bindparam("patient_days", expanding=True))
)


def _per_day(rows: Iterable[Sequence]) -> list[DayResult]:
    """One result per instrument and day (the highest), ordered by day, then instrument."""
    of_day: dict[tuple[date, str], list[tuple[int, str | None]]] = {}
    for instrument_id, day, total, band in rows:
        of_day.setdefault((day, instrument_id), []).append((total, band))
    return [
        DayResult(instrument_id, day, *max(results, key=itemgetter(0)), len(results))
        for (day, instrument_id), results in sorted(of_day.items())
    ]


def day_results(patient_id: str, start: date, end: date) -> list[DayResult]:
    """A patient's instrument results per day between two days inclusive, in one statement."""
    params = {"patient_id": patient_id, "start": start, "end": end}
    rows = db.session.execute(_RESULTS_IN_RANGE, params)
    return _per_day(row[1:] for row in rows)


def day_results_on(days_by_patient: Mapping[str, Iterable[date]]) -> dict[str, list[DayResult]]:
    """Each patient's instrument results on the days given, in one statement for any number."""
    pairs = [(patient_id, day) for patient_id, days in days_by_patient.items() for day in days]
    by_patient: dict[str, list] = {patient_id: [] for patient_id in days_by_patient}
    if not pairs:
        return by_patient
    for row in db.session.execute(_RESULTS_ON_DAYS, {"patient_days": pairs}):
        by_patient[row[0]].append(row[1:])
    return {patient_id: _per_day(rows) for patient_id, rows in by_patient.items()}


def announce_recorded(patient: Principal, day: date) -> None:
    """Tell the features that judge days that a result of `day` changed; call before commit.

    Every write of a response or an observation calls it (check-ins re-judge the days and
    their alerts, in the same transaction).
    """
    result_recorded.send(patient, day=day)
