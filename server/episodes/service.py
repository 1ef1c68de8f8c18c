"""Withdrawal episode use cases, and the episode day of a patient's calendar days.

Every field is the person's own account: it is stored, checked for consistency and shown,
never interpreted.
"""

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from server.auth.models import Principal, User
from server.common.dates import EARLIEST_CHECKIN_DATE, local_today, past_moment_rule
from server.common.pagination import fetch_page, page_of
from server.db import begin_write
from server.episodes.calculations import EpisodeSpan, anchor_day, episode_day
from server.episodes.models import Episode
from server.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from server.extensions import db
from server.sharing import policy
from server.vocabulary import MOUD_NONE

# Last use may be this long before the episode's start (a person often starts the day
# after; a month covers a late first entry), never earlier.
LAST_USE_MAX_DAYS_BEFORE = 30
NOT_FOUND = "There is no such episode."
ONE_OPEN = (
    "An episode is still open: end it (POST /api/v1/episodes/{id}/end) before starting "
    "another, or correct it with PATCH."
)
EDITABLE = ("started_on", "last_use_at", "substances", "moud", "moud_started_on")

_table = Episode.__table__
_c = _table.c
_OF_PATIENT = _c.patient_id == bindparam("patient_id")
# Newest first; the id settles two episodes started the same day.
_LIST = select(Episode).where(_OF_PATIENT).order_by(_c.started_on.desc(), _c.id)
_SPANS = select(_c.started_on, _c.last_use_at, _c.ended_on).where(_OF_PATIENT)


# --- Episode days ---------------------------------------------------------------------


def spans_of(patient: Principal) -> list[EpisodeSpan]:
    """The days each of a patient's episodes numbers, day 0 in the patient's time zone."""
    rows = db.session.execute(_SPANS, {"patient_id": patient.id})
    return [
        EpisodeSpan(anchor_day(started_on, last_use_at, patient.timezone), started_on, ended_on)
        for started_on, last_use_at, ended_on in rows
    ]


def day_numbering(patient: Principal) -> Callable[[date], int | None]:
    """A function giving each calendar day its episode day (None outside every episode)."""
    spans = spans_of(patient)
    return lambda day: episode_day(day, spans)


def number_days(patient: Principal, days: Iterable, *, key: str | None = None) -> None:
    """Set the episode day of records with a date (dicts: `key` names it), reading once."""
    number = day_numbering(patient)
    for day in days:
        if key is None:
            day.episode_day = number(day.date)
        else:
            day["episode_day"] = number(day[key])


# --- Rules ----------------------------------------------------------------------------


def _check(fields: dict, patient: Principal, *, ended_on: date | None = None) -> None:
    """Refuse an episode whose dates break a rule, naming every field that does."""
    today = local_today(patient.timezone)
    errors: dict[str, list[str]] = {}
    for name in ("started_on", "moud_started_on"):
        day = fields[name]
        if day is not None and day < EARLIEST_CHECKIN_DATE:
            errors[name] = ["Must be 2000-01-01 or later."]
        elif day is not None and day > today:
            errors[name] = ["Must not be after today in your time zone."]
    if fields["moud"] == MOUD_NONE and fields["moud_started_on"] is not None:
        errors["moud_started_on"] = ["Only with a moud other than none; send null to clear."]
    last_use_at = fields["last_use_at"]
    if last_use_at is not None:
        rule = _last_use_rule(fields["started_on"], last_use_at, patient, ended_on)
        if rule:
            errors["last_use_at"] = [rule]
    if ended_on is not None and ended_on < fields["started_on"]:
        errors["started_on"] = ["Must not be after the day the episode ended."]
    if errors:
        raise ValidationFailed("The episode breaks a rule; see errors.", errors=errors)


def _last_use_rule(
    started_on: date, last_use_at: datetime, patient: Principal, ended_on: date | None
) -> str | None:
    """The rule a last use breaks, if any (compared as moments first: no date overflows)."""
    rule = past_moment_rule(last_use_at)
    if rule is not None:
        return rule
    anchor = anchor_day(started_on, last_use_at, patient.timezone)
    if anchor < started_on - timedelta(days=LAST_USE_MAX_DAYS_BEFORE):
        return f"Must be at most {LAST_USE_MAX_DAYS_BEFORE} days before started_on."
    if ended_on is not None and anchor > ended_on:
        return "Must not be after the day the episode ended."
    return None


def _check_end(episode: Episode, ended_on: date, patient: Principal) -> None:
    """An episode ends on or after its start and its day 0, and not after today."""
    anchor = anchor_day(episode.started_on, episode.last_use_at, patient.timezone)
    rule = None
    if ended_on > local_today(patient.timezone):
        rule = "Must not be after today in your time zone."
    elif ended_on < max(episode.started_on, anchor):
        rule = "Must not be before started_on or the day of last use."
    if rule:
        raise ValidationFailed("The episode cannot end then.", errors={"ended_on": [rule]})


# --- Use cases ------------------------------------------------------------------------


def _owned(patient: Principal, episode_id: str) -> Episode:
    """One of the patient's episodes, or 404 (someone else's is 404 too)."""
    episode = db.session.get(Episode, episode_id)
    if episode is None or episode.patient_id != patient.id:
        raise NotFound(NOT_FOUND)
    return episode


def _store(episode: Episode) -> Episode:
    """Commit an added or changed episode; a second open one is a 409."""
    try:
        db.session.commit()
    except IntegrityError:
        # The one-open index, or the account deleted meanwhile (its foreign key).
        db.session.rollback()
        if db.session.get(User, episode.patient_id) is None:
            raise Unauthorized("This sign-in has ended. Sign in again.") from None
        raise Conflict(ONE_OPEN) from None
    return episode


def create(patient: Principal, data: dict) -> Episode:
    """Open a new episode; 409 while another is open."""
    _check(data, patient)
    begin_write(db.session)
    if db.session.scalar(select(_c.id).where(_c.patient_id == patient.id, _c.ended_on.is_(None))):
        db.session.rollback()
        raise Conflict(ONE_OPEN)
    episode = Episode(patient_id=patient.id, **data)
    db.session.add(episode)
    return _store(episode)


def correct(patient: Principal, episode_id: str, changes: dict) -> Episode:
    """Change the fields sent; the episode as it then stands must keep every rule."""
    begin_write(db.session)
    episode = _owned(patient, episode_id)
    merged = {name: changes.get(name, getattr(episode, name)) for name in EDITABLE}
    try:
        _check(merged, patient, ended_on=episode.ended_on)
    except ValidationFailed:
        db.session.rollback()
        raise
    for name, value in changes.items():
        setattr(episode, name, value)
    return _store(episode)


def end(patient: Principal, episode_id: str, ended_on: date | None) -> Episode:
    """Close an open episode (default: today in the patient's zone); 409 if already ended."""
    begin_write(db.session)
    episode = _owned(patient, episode_id)
    try:
        if episode.ended_on is not None:
            raise Conflict(f"This episode ended on {episode.ended_on.isoformat()} already.")
        ended_on = ended_on or local_today(patient.timezone)
        _check_end(episode, ended_on, patient)
    except (Conflict, ValidationFailed):
        db.session.rollback()
        raise
    episode.ended_on = ended_on
    return _store(episode)


def get(patient: Principal, episode_id: str) -> Episode:
    """One of the patient's episodes, or 404."""
    return _owned(patient, episode_id)


def list_page(patient: Principal, page: int, page_size: int) -> dict:
    """A page of the patient's episodes, the most recently started first."""
    rows, total = fetch_page(
        db.session, _LIST, {"patient_id": patient.id}, page=page, page_size=page_size
    )
    return page_of([row[0] for row in rows], page=page, page_size=page_size, total_items=total)


def for_counselor(counselor: Principal, patient_id: str, page: int, page_size: int) -> dict:
    """A page of a sharing patient's episodes, with the checkins scope; the read is logged."""
    with policy.disclosure(counselor, patient_id, "checkins", "episodes_viewed") as (
        _share,
        patient,
        detail,
    ):
        result = list_page(patient, page, page_size)
        detail.update(page=page)
    return result
