"""Check-in use cases and every query of the check-ins table, scoped to one patient.

The changes feed's own statements (change numbers, tombstones) are in feed.py.

Reads hand back `StoredDay` records (date, the scores, note, version, timestamps and
`total`) built from Core rows, not ORM objects: nothing here needs identity tracking, and a
slotted record reads its fields several times faster than a Row does.
"""

import uuid
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, make_dataclass
from datetime import date, datetime, timedelta
from operator import itemgetter

from sqlalchemy import Row, String, bindparam, cast, delete, func, null, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from server.alerts import service as alerts_service
from server.assessments import service as assessments_service
from server.assessments.judgement import Assessment
from server.auth.models import Principal, User
from server.checkins import feed
from server.checkins.models import Checkin
from server.checkins.schemas import without_amounts
from server.common.conditional import (
    Failure,
    Preconditions,
    precondition_refusal,
    preconditions_from,
)
from server.common.dates import check_loggable_day, local_today, resolve_range
from server.common.pagination import fetch_page, page_of
from server.db import OneStepRead, begin_write, retry_on_conflict, utcnow
from server.episodes import service as episodes_service
from server.errors import (
    ApiError,
    NotFound,
    PreconditionFailed,
    Unauthorized,
    ValidationFailed,
    error_details,
)
from server.extensions import db
from server.instruments import service as instruments_service
from server.instruments.signals import result_recorded
from server.sharing import policy
from server.vocabulary import CHECKIN_CONTENT, CORE_SYMPTOMS, OPTIONAL_EXTRAS

LIST_DEFAULT_DAYS = 90
SIGNED_OUT = "This sign-in has ended. Sign in again."
NO_PRECONDITIONS = Preconditions()
BATCH_NAMES = ("if_match", "if_none_match")

_table = Checkin.__table__
_c = _table.c
TOTAL = (_c.nausea + _c.aches + _c.anxiety + _c.insomnia).label("total")
ROW = (
    _c.date,
    *(_c[name] for name in CHECKIN_CONTENT),
    _c.version,
    _c.created_at,
    _c.updated_at,
    TOTAL,
)
_PATIENT = _c.patient_id == bindparam("patient_id")
# What trends and charts read: the scores of a day, without its note or timestamps.
SCORES = (_c.date, *(_c[name] for name in (*CORE_SYMPTOMS, *OPTIONAL_EXTRAS)), TOTAL)
# Records with fields in their columns' order, so a row's values fill them positionally.
# `episode_day` is no column: it is numbered from the patient's episodes when shown.
StoredDay = make_dataclass(
    "StoredDay",
    [*(column.name for column in ROW), ("episode_day", int | None, field(default=None))],
    slots=True,
)
DayScores = make_dataclass("DayScores", [column.name for column in SCORES], slots=True)

# Hot statements are built once; each execution only binds its values.
_DAY = select(*ROW).where(_PATIENT, _c.date == bindparam("day"))
_NEWEST_UP_TO = (
    select(*ROW)
    .where(_PATIENT, _c.date <= bindparam("day"))
    .order_by(_c.date.desc())
    .limit(bindparam("limit"))
)
_NEWEST = select(*ROW).where(_PATIENT).order_by(_c.date.desc()).limit(bindparam("limit"))
_IN_RANGE = (
    select(*ROW)
    .where(_PATIENT, _c.date.between(bindparam("start"), bindparam("end")))
    .order_by(_c.date)
)
_COUNT_IN_RANGE = select(func.count()).where(
    _PATIENT, _c.date.between(bindparam("start"), bindparam("end"))
)
_SCORES_IN_RANGE = (
    select(*SCORES)
    .where(_PATIENT, _c.date.between(bindparam("start"), bindparam("end")))
    .order_by(_c.date)
)
_SCORES_IN_RANGE_READ = OneStepRead(_SCORES_IN_RANGE, sort_key=itemgetter(0))


def _newest_per_patient() -> OneStepRead:
    """Each listed patient's newest `limit` days' scores, by patient and newest first."""
    rank = (
        func.row_number().over(partition_by=_c.patient_id, order_by=_c.date.desc()).label("rank")
    )
    # The owner as stored text (hex on SQLite, dashed on PostgreSQL): turning every row's
    # id back into a UUID string costs more than the rest of the row.
    owner = cast(_c.patient_id, String).label("owner")
    patients = _c.patient_id.in_(bindparam("patient_ids", expanding=True))
    ranked = select(owner, *SCORES, rank).where(patients).subquery()
    query = (
        select(ranked)
        .where(ranked.c.rank <= bindparam("limit"))
        .order_by(ranked.c.owner, ranked.c.rank)
    )
    return OneStepRead(query, sort_key=lambda row: (row[0], row[-1]))


_NEWEST_PER_PATIENT = _newest_per_patient()
_DATES_BEFORE = (
    select(_c.date)
    .where(_PATIENT, _c.date < bindparam("before"))
    .order_by(_c.date.desc())
    .limit(bindparam("limit"))
)
# SET parameters may not share the columns' names, hence "new_" and "owner".
_NEW_VALUES = {
    **{name: bindparam(f"new_{name}") for name in CHECKIN_CONTENT},
    "version": bindparam("new_version"),
    "change_seq": bindparam("new_change_seq"),
    "updated_at": bindparam("now"),
}
_THE_DAY = (_c.patient_id == bindparam("owner"), _c.date == bindparam("day"))
_CONDITIONAL_UPDATE = (
    update(_table)
    .where(*_THE_DAY, _c.version == bindparam("expected"))
    .values(_NEW_VALUES)
    .returning(*ROW)
)
# If-Match: * asks only that the day exists, whatever its version.
_REPLACE_EXISTING = update(_table).where(*_THE_DAY).values(_NEW_VALUES).returning(*ROW)
_DELETE_DAY = delete(_table).where(_PATIENT, _c.date == bindparam("day"))


def _build_upsert(dialect) -> object:
    """Insert the day, or replace its content if it exists: one atomic statement."""
    insert = dialect.insert(_table)
    replaced = {
        name: insert.excluded[name] for name in (*CHECKIN_CONTENT, "version", "change_seq")
    }
    return insert.on_conflict_do_update(
        index_elements=[_c.patient_id, _c.date],
        set_={**replaced, "updated_at": insert.excluded.updated_at},
    ).returning(*ROW)


def _build_insert_new(dialect) -> object:
    """Insert the day only if it is missing (If-None-Match: *): no row back if it exists."""
    insert = dialect.insert(_table)
    return insert.on_conflict_do_nothing(index_elements=[_c.patient_id, _c.date]).returning(*ROW)


_UPSERT = {"sqlite": _build_upsert(sqlite), "postgresql": _build_upsert(postgresql)}
_INSERT_NEW = {"sqlite": _build_insert_new(sqlite), "postgresql": _build_insert_new(postgresql)}
_FEED = feed.FeedReader(ROW)


def content_of(row) -> dict:
    """The patient-entered fields of a stored day."""
    return {name: getattr(row, name) for name in CHECKIN_CONTENT}


def etag_of(row) -> str:
    """Strong entity tag of a stored day's current version."""
    return f'"{row.version}"'


def _new_version() -> str:
    """A random version, so an ETag never repeats even if a day is re-created."""
    return uuid.uuid4().hex


# --- Queries (the only ones of the check-ins table) ------------------------------------


def _days(result) -> list:
    """StoredDay records of a result's rows."""
    return [StoredDay(*row) for row in result]


def _one_day(row) -> StoredDay | None:
    """A StoredDay of one row, if there is one."""
    return None if row is None else StoredDay(*row)


def get_day(patient_id: str, day: date):
    """A patient's check-in for a day, if any."""
    return _one_day(db.session.execute(_DAY, {"patient_id": patient_id, "day": day}).first())


def newest(patient_id: str, limit: int, *, up_to: date | None = None) -> Sequence[StoredDay]:
    """The patient's newest check-ins (on or before `up_to`), newest first."""
    params = {"patient_id": patient_id, "limit": limit}
    if up_to is None:
        return _days(db.session.execute(_NEWEST, params))
    return _days(db.session.execute(_NEWEST_UP_TO, {**params, "day": up_to}))


def scores_in_range(patient_id: str, start: date, end: date) -> list:
    """The scores of a patient's days between two days inclusive, in date order."""
    params = {"patient_id": patient_id, "start": start, "end": end}
    return [DayScores(*row) for row in _SCORES_IN_RANGE_READ.rows(db.session, params)]


def dates_before(patient_id: str, before: date, limit: int) -> list[date]:
    """Up to `limit` logged dates before a day, newest first."""
    params = {"patient_id": patient_id, "before": before, "limit": limit}
    return list(db.session.scalars(_DATES_BEFORE, params))


def newest_per_patient(patient_ids: Sequence[str], limit: int) -> dict[str, list]:
    """Each patient's newest days' scores, newest first, in one statement for any number."""
    if not patient_ids:
        return {}
    by_patient: dict[str, list] = {patient_id: [] for patient_id in patient_ids}
    by_stored = {**{i: i for i in patient_ids}, **{i.replace("-", ""): i for i in patient_ids}}
    params = {"patient_ids": list(patient_ids), "limit": limit}
    for row in _NEWEST_PER_PATIENT.rows(db.session, params):
        by_patient[by_stored[row[0]]].append(DayScores(*row[1:-1]))
    return by_patient


def export_rows_query(patient_id: str, start: date, end: date, *, include_notes: bool):
    """Rows of the days in range, in date order; without consent the note stays in the DB."""
    note = _c.note if include_notes else null().label("note")
    columns = [note if column.name == "note" else column for column in ROW]
    return (
        select(*columns)
        .where(_c.patient_id == patient_id, _c.date.between(start, end))
        .order_by(_c.date)
    )


def export_rows(patient_id: str, start: date, end: date, *, include_notes: bool) -> list[Row]:
    """All rows of an export range at once (PDF, FHIR)."""
    query = export_rows_query(patient_id, start, end, include_notes=include_notes)
    return db.session.execute(query).all()


def with_episode_days(rows: Iterable[Row], number, *, include_notes: bool) -> Iterator[StoredDay]:
    """Export rows as StoredDay records numbered by `number` (episodes read beforehand).

    Without consent to notes the taken amounts go too: they are the person's own words.
    """
    for row in rows:
        day = StoredDay(*row)
        day.episode_day = number(day.date)
        if not include_notes:
            day.taken = without_amounts(day.taken)
        yield day


def export_days(patient: Principal, start: date, end: date, *, include_notes: bool) -> list:
    """Every day of an export range at once, with its episode day (PDF)."""
    number = episodes_service.day_numbering(patient)
    rows = export_rows(patient.id, start, end, include_notes=include_notes)
    return list(with_episode_days(rows, number, include_notes=include_notes))


def paged_export_rows(engine, query, page_rows: int) -> Iterator[Row]:
    """Yield an export's rows a page at a time, each page in its own short transaction.

    Keyset pages (date is unique per patient) keep memory flat, and a slow download
    holds neither a pooled connection nor SQLite's lock between pages.
    """
    after = None
    while True:
        page_query = query if after is None else query.where(_c.date > after)
        with engine.connect() as connection:
            page = connection.execute(page_query.limit(page_rows)).all()
        yield from page
        if len(page) < page_rows:
            return
        after = page[-1].date


# --- Use cases ---------------------------------------------------------------------------


def list_page(
    patient: Principal, start: date | None, end: date | None, page: int, page_size: int
) -> dict:
    """One page of a patient's check-ins in date order (default: the last 90 days)."""
    start, end = resolve_range(patient.timezone, start, end, default_days=LIST_DEFAULT_DAYS)
    params = {"patient_id": patient.id, "start": start, "end": end}
    rows, total_items = fetch_page(db.session, _IN_RANGE, params, page=page, page_size=page_size)
    days = _days(rows)
    if days:
        episodes_service.number_days(patient, days)
    return {
        **page_of(days, page=page, page_size=page_size, total_items=total_items),
        "start": start,
        "end": end,
    }


def get_or_404(patient_id: str, day: date) -> StoredDay:
    """A patient's check-in for a day, or 404."""
    row = get_day(patient_id, day)
    if row is None:
        raise NotFound("There is no check-in for this day.")
    return row


def get_numbered(patient: Principal, day: date) -> StoredDay:
    """A patient's check-in for a day with its episode day, or 404."""
    row = get_or_404(patient.id, day)
    episodes_service.number_days(patient, (row,))
    return row


def _split_history(rows: Sequence[StoredDay], day: date):
    """Separate the day itself from the earlier check-ins (rows are newest first)."""
    if rows and rows[0].date == day:
        return rows[0], rows[1:]
    return None, rows


def _judgement_rows(patient_id: str, day: date) -> Sequence[StoredDay]:
    """The day and the earlier check-ins its judgement needs, newest first."""
    return newest(patient_id, assessments_service.history_needed() + 1, up_to=day)


def _instrument_window(day: date) -> tuple[date, date]:
    """The days whose instrument results a day's judgement reads: its baseline and itself."""
    return day - timedelta(days=assessments_service.instrument_days_needed()), day


def _instrument_results(patient_id: str, first: date, last: date) -> list:
    """The instrument results the judgements of the days `first`..`last` read (one statement)."""
    start, end = _instrument_window(first)[0], last
    return instruments_service.day_results(patient_id, start, end)


def _present(
    patient: Principal, judged: Assessment | None, shares=None, resource_owners=None
) -> dict:
    """An assessment with its resources; the shares are read only when resources need them.

    Counselors' own resources shown are those of the patient's counselors, or, when someone
    else is looking (`resource_owners`), only the ones that viewer may see.
    """
    needs_resources = judged is not None and assessments_service.needs_resources(judged)
    if resource_owners is None:
        if shares is None and needs_resources:
            shares = policy.active_shares_of_patient(patient)
        resource_owners = policy.counselors_in(shares or ())
        return assessments_service.present(patient, judged, counselor_ids=resource_owners)
    # Someone else is looking: a counselor, who reads the reasons written for them.
    return assessments_service.present(
        patient, judged, counselor_ids=resource_owners, for_counselor=True
    )


def status(patient: Principal, *, viewer: Principal | None = None) -> dict:
    """The assessment of the patient's latest check-in (or no_data), as `viewer` may see it."""
    rows = newest(patient.id, assessments_service.history_needed() + 1)
    judged = None
    if rows:
        results = _instrument_results(patient.id, rows[0].date, rows[0].date)
        judged = assessments_service.judge(rows[0], rows[1:], results)
    if viewer is None:
        return _present(patient, judged)
    # A counselor sees their own resources, never those of the patient's other counselors.
    return _present(patient, judged, resource_owners=policy.resource_owner_ids(viewer))


def _judged_rows_in_range(patient_id: str, start: date, end: date) -> list[tuple]:
    """Each logged day in a range with its judgement, newest first (three statements at most)."""
    params = {"patient_id": patient_id, "start": start, "end": end}
    count = db.session.scalar(_COUNT_IN_RANGE, params)
    if not count:
        return []
    history = assessments_service.history_needed()
    # Newest first: the range's days, then the check-ins the oldest of them is judged on.
    rows = newest(patient_id, count + history, up_to=end)
    results = _instrument_results(patient_id, rows[count - 1].date, rows[0].date)
    result_days = [result.date for result in results]

    def results_for(day: date) -> list:
        """The results (sorted by day) of the day's own instrument window."""
        first, last = _instrument_window(day)
        return results[bisect_left(result_days, first) : bisect_right(result_days, last)]

    return [
        (
            rows[i],
            assessments_service.judge(
                rows[i], rows[i + 1 : i + 1 + history], results_for(rows[i].date)
            ),
        )
        for i in range(count)
    ]


def judged_in_range(patient_id: str, start: date, end: date) -> dict[date, Assessment]:
    """The judgement of each logged day in a range, each against its own earlier days."""
    return {row.date: judged for row, judged in _judged_rows_in_range(patient_id, start, end)}


@dataclass(frozen=True)
class Recent:
    """A patient's latest check-in, its judgement, and how many of the last days are logged."""

    latest: StoredDay | None
    judged: Assessment | None
    days_logged: int


def recent_of(patients: Sequence[Principal], days: int) -> dict[str, Recent]:
    """Each patient's recent picture, in two statements for any number of patients."""
    needed = max(assessments_service.history_needed() + 1, days)
    rows_by_patient = newest_per_patient([patient.id for patient in patients], needed)
    # One more statement for everyone: the instrument results around each latest check-in.
    results_by_patient = instruments_service.day_results_on(
        {
            patient_id: _days_from(*_instrument_window(rows[0].date))
            for patient_id, rows in rows_by_patient.items()
            if rows
        }
    )
    recent = {}
    for patient in patients:
        rows = rows_by_patient[patient.id]
        today = local_today(patient.timezone)
        first = today - timedelta(days=days - 1)
        judged = None
        if rows:
            judged = assessments_service.judge(rows[0], rows[1:], results_by_patient[patient.id])
        recent[patient.id] = Recent(
            latest=rows[0] if rows else None,
            judged=judged,
            days_logged=sum(1 for row in rows if first <= row.date <= today),
        )
    return recent


def _days_from(first: date, last: date) -> list[date]:
    """Every day from `first` to `last` inclusive."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _refused(
    preconditions: Preconditions, failure: Failure, existing: StoredDay | None
) -> PreconditionFailed:
    """The 412 of a write ruled out by If-Match or If-None-Match, saying which case it is."""
    etag = etag_of(existing) if existing else None
    return precondition_refusal(preconditions, failure, etag, "check-in")


def _next_seq(patient: Principal) -> int:
    """The patient's next change number, or 401 if the account has just been deleted."""
    seq = feed.next_seq(patient.id)
    if seq is None:
        db.session.rollback()
        raise Unauthorized(SIGNED_OUT)
    return seq


@dataclass(frozen=True)
class SavedDay:
    """A stored day, whether the PUT created it, and the day's assessment."""

    row: StoredDay
    created: bool
    assessment: dict


def _write(
    patient: Principal, day: date, data: dict, preconditions: Preconditions, existing
) -> tuple[StoredDay, bool]:
    """Store the day under the patient's next change number; returns (row, created).

    One statement writes the day, and the conditions hold in it: If-Match as the version
    the row must still have, If-None-Match: * as an insert that leaves an existing day be.
    """
    dialect = db.session.get_bind().dialect.name
    now, version, seq = utcnow(), _new_version(), _next_seq(patient)
    if preconditions.if_match is None:
        # Unconditional: an atomic upsert, so a concurrent PUT of the same day is never
        # mistaken for a stale If-Match; the last write wins, as the client asked.
        statement = (_INSERT_NEW if preconditions.create_only else _UPSERT)[dialect]
        row = db.session.execute(
            statement,
            {
                **data,
                "patient_id": patient.id,
                "date": day,
                "version": version,
                "change_seq": seq,
                "created_at": now,
                "updated_at": now,
            },
        ).first()
        if row is None:  # PostgreSQL: another request created the day since we read it
            raise _refused(preconditions, Failure.EXISTS, None)
        return StoredDay(*row), row.created_at == now
    params = {
        **{f"new_{name}": value for name, value in data.items()},
        "owner": patient.id,
        "day": day,
        "new_version": version,
        "new_change_seq": seq,
        "now": now,
    }
    if preconditions.if_match.star_tag:
        row = db.session.execute(_REPLACE_EXISTING, params).first()
    else:
        params["expected"] = existing.version
        row = db.session.execute(_CONDITIONAL_UPDATE, params).first()
    if row is None:  # PostgreSQL: another request changed or deleted the day since
        raise _refused(preconditions, Failure.CHANGED, None)
    return StoredDay(*row), False


@retry_on_conflict
def save_day(
    *,
    patient: Principal,
    day: date,
    data: dict,
    preconditions: Preconditions = NO_PRECONDITIONS,
) -> SavedDay:
    """Create or replace a day's check-in, judge it and alert counselors, in one commit."""
    check_loggable_day(patient.timezone, day)
    begin_write(db.session)
    existing, history = _split_history(_judgement_rows(patient.id, day), day)
    if existing is not None and content_of(existing) == data:
        # A retried PUT whose first attempt already landed: nothing to change, so it
        # succeeds whatever its conditions say (RFC 9110 13.1: the change was applied).
        results = _instrument_results(patient.id, day, day)
        assessment = _present(patient, assessments_service.judge(existing, history, results))
        episodes_service.number_days(patient, (existing,))
        db.session.commit()
        return SavedDay(existing, False, assessment)
    failure = preconditions.failure(None if existing is None else existing.version)
    if failure is not None:
        db.session.rollback()
        raise _refused(preconditions, failure, existing)
    try:
        row, created = _write(patient, day, data, preconditions, existing)
        results = _instrument_results(patient.id, day, day)
        judged = assessments_service.judge(row, history, results)
        # Every alarming day calls for resources, so one condition covers both reads.
        needs_shares = assessments_service.needs_resources(judged)
        shares = policy.active_shares_of_patient(patient) if needs_shares else ()
        alerts_service.record_for_day(
            patient_id=patient.id,
            day=day,
            judged=judged,
            shares=policy.alert_shares(shares, day_logged_at=row.created_at),
            # Not `existing`: on PostgreSQL another PUT may have created the day meanwhile.
            replaced=not created,
        )
        assessment = _present(patient, judged, shares)
        episodes_service.number_days(patient, (row,))
        db.session.commit()
    except PreconditionFailed:
        db.session.rollback()
        raise
    except IntegrityError:
        # A foreign key caught a deletion racing this PUT: the patient's own account (the
        # sign-in has ended) or, on PostgreSQL, a counselor's (retry_on_conflict runs the
        # use case again, reading the shares afresh).
        db.session.rollback()
        if db.session.get(User, patient.id) is None:
            raise Unauthorized(SIGNED_OUT) from None
        raise
    return SavedDay(row, created, assessment)


@result_recorded.connect
def rejudge_after_instrument_result(patient: Principal, *, day: date, **_extra) -> None:
    """Re-judge the logged days a new instrument result bears on, and their alerts.

    A result of `day` counts in that day's judgement and in the SOWS baseline of the
    days after it. Runs in the instrument write's transaction, which commits.
    """
    # After a check-in write of this patient in flight commits, or before it reads the
    # results: either way one of the two judges the day with both.
    feed.hold(patient.id)
    last = day + timedelta(days=assessments_service.instrument_days_needed())
    judged_days = _judged_rows_in_range(patient.id, day, last)
    if not judged_days:
        return
    alarming = any(alerts_service.is_alarming(judged) for _row, judged in judged_days)
    shares = policy.active_shares_of_patient(patient) if alarming else ()
    for row, judged in judged_days:
        alerts_service.record_for_day(
            patient_id=patient.id,
            day=row.date,
            judged=judged,
            shares=policy.alert_shares(shares, day_logged_at=row.created_at),
            # The day's judgement changed as a correction would change it.
            replaced=True,
        )


def delete_day(*, patient: Principal, day: date) -> None:
    """Delete a day's check-in (and its unacknowledged alerts), leaving a tombstone, or 404."""
    begin_write(db.session)
    # The change number first: every write takes the patient's feed before the day's row,
    # so two writes of one patient never wait for each other the other way round.
    seq = _next_seq(patient)
    deleted = db.session.execute(_DELETE_DAY, {"patient_id": patient.id, "day": day})
    if deleted.rowcount == 0:
        db.session.rollback()
        raise NotFound("There is no check-in for this day.")
    feed.bury(patient.id, day, seq, utcnow())
    alerts_service.record_for_day(
        patient_id=patient.id, day=day, judged=None, shares=(), replaced=True
    )
    db.session.commit()


# --- Batch upload ------------------------------------------------------------------------


def _outcome(day: object, error: ApiError) -> dict:
    """A batch item's answer when it was refused (412 or 422)."""
    return {
        "date": day,
        "status": error.status,
        "etag": error.headers.get("ETag"),
        "problem": error_details(error),
    }


def _save_item(patient: Principal, item: dict) -> dict:
    """One batch item, judged and stored exactly as a PUT of that day would be."""
    data = dict(item)
    day = data.pop("date")
    try:
        preconditions = preconditions_from(
            data.pop("if_match", None), data.pop("if_none_match", None), names=BATCH_NAMES
        )
        saved = save_day(patient=patient, day=day, data=data, preconditions=preconditions)
    except (PreconditionFailed, ValidationFailed) as refused:
        db.session.rollback()
        return _outcome(day.isoformat(), refused)
    return {
        "date": day.isoformat(),
        "status": 201 if saved.created else 200,
        "etag": etag_of(saved.row),
        "checkin": {**asdict(saved.row), "assessment": saved.assessment},
    }


def save_batch(*, patient: Principal, items: Sequence) -> list[dict]:
    """Save a phone's queued days; one answer per item, in the order they were sent.

    Each item is a loaded day (a dict) or why it could not be loaded: a ValidationFailed
    whose `day` is the date it named, if any (schemas.InvalidItem). Days are saved oldest
    first, each in its own short transaction (one PUT's): each is judged with the days
    before it in place, as if the phone had been online, and the write lock is never held
    for the whole batch. Nothing is rolled back when a later day fails, and a retried batch
    changes nothing: the days it stored are equal already.
    """
    outcomes: list[dict | None] = [None] * len(items)
    loaded = []
    for index, item in enumerate(items):
        if isinstance(item, ValidationFailed):
            outcomes[index] = _outcome(item.day, item)
        else:
            loaded.append((item["date"], index))
    for _day, index in sorted(loaded):
        outcomes[index] = _save_item(patient, items[index])
    return outcomes


# --- Changes feed ------------------------------------------------------------------------


class ResyncRequired(ApiError):
    """A changes cursor the feed can no longer continue from."""

    status, slug = 410, "resync-required"


def _change(row: tuple) -> dict:
    """A feed item: the day as it is now, or a tombstone of a deleted day."""
    _seq, deleted, *stored = row
    if deleted:
        return {"date": stored[0], "deleted": True}
    day = StoredDay(*stored)
    return {"date": day.date, "deleted": False, "etag": etag_of(day), "checkin": day}


def changes_page(patient: Principal, since: int | None, limit: int) -> dict:
    """Days created, replaced or deleted after `since` (all kept, without it), oldest first.

    `next_cursor` is the last change of the page, or, once the feed is exhausted, the
    newest change number of all, so a client that is up to date keeps its place.
    """
    page = _FEED.read(patient.id, since or 0, limit + 1)
    if since is not None and not page.pruned_through <= since <= page.last_seq:
        raise ResyncRequired(
            "This cursor is older than the changes still kept (deleted days are kept for "
            "a limited time) or is not from your account. Resync: keep the cursor given "
            "here, fetch every day again (GET /api/v1/checkins, or this feed without "
            "since), then follow the feed from that cursor.",
            extensions={"cursor": feed.encode_cursor(page.last_seq)},
        )
    items = [_change(row) for row in page.changes[:limit]]
    has_more = len(page.changes) > limit
    days = [item["checkin"] for item in items if not item["deleted"]]
    if days:
        episodes_service.number_days(patient, days)
    return {
        "items": items,
        "next_cursor": page.changes[limit - 1][0] if has_more else page.last_seq,
        "has_more": has_more,
    }


def prune_tombstones(*, keep_days: int, now: datetime | None = None) -> int:
    """Forget tombstones older than `keep_days` days (and superseded ones); returns how many."""
    before = (now or utcnow()) - timedelta(days=keep_days)
    begin_write(db.session)
    forgotten = feed.prune(before)
    db.session.commit()
    return forgotten
