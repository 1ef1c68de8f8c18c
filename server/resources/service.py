"""Resource use cases: the catalogue, what fits an assessment, and the treatment locator."""

import logging
import re

from flask import current_app
from sqlalchemy import Connection, case, delete, insert, select, update

from server.accounts.models import Role
from server.common.dates import local_today
from server.db import utcnow
from server.errors import NotFound
from server.extensions import db
from server.resources.catalogue import load_catalogue
from server.resources.locator import LocatorError, deep_link, locator_from_config
from server.resources.models import Resource
from server.sharing import policy as sharing_policy

log = logging.getLogger(__name__)
US_ZIP = re.compile(r"[0-9]{5}(-[0-9]{4})?")

# Kinds shown for a day's level and for each of its reasons; a day gets the union, so a
# crisis that is also severe still lists treatment and medical help after the lines.
KINDS_FOR_LEVEL = {
    "crisis": ("emergency", "crisis"),
    "severe": ("crisis", "emergency", "medical", "treatment", "helpline"),
    "worsening": ("treatment", "helpline"),
}
KINDS_FOR_REASON = {
    "crisis": ("emergency", "crisis"),
    "severe_symptoms": ("crisis", "emergency", "medical", "treatment", "helpline"),
    "dehydration_risk": ("medical", "emergency"),
    "overdose_risk": ("harm_reduction", "emergency"),
    "worsening_total": ("treatment", "helpline"),
    "worsening_symptom": ("treatment", "helpline"),
}
KIND_ORDER = ("emergency", "crisis", "harm_reduction", "medical", "treatment", "helpline")


def sync_catalogue(connection: Connection) -> None:
    """Make the catalogue rows equal the shipped file (migrations, CLI, tests)."""
    catalogue = load_catalogue()
    table = Resource.__table__
    existing = set(connection.scalars(select(table.c.id).where(table.c.owner_id.is_(None))))
    now = utcnow()
    for entry in catalogue.entries:
        values = {
            "catalogue_key": entry.key,
            "name": entry.name,
            "kind": entry.kind,
            "region": entry.region,
            "phone": entry.phone,
            "sms": entry.sms,
            "url": entry.url,
            "hours": entry.hours,
            "description": entry.description,
            "source_url": entry.source_url,
            "verified_on": entry.verified_on,
            "updated_at": now,
        }
        if entry.id in existing:
            connection.execute(update(table).where(table.c.id == entry.id).values(**values))
        else:
            connection.execute(insert(table).values(id=entry.id, created_at=now, **values))
    shipped = {entry.id for entry in catalogue.entries}
    stale = existing - shipped
    if stale:
        connection.execute(delete(table).where(table.c.id.in_(stale)))


def _kind_rank():
    """SQL expression ordering kinds from most to least urgent."""
    return case({kind: rank for rank, kind in enumerate(KIND_ORDER)}, value=Resource.kind)


def list_resources(
    *, region: str, kinds: tuple[str, ...] | None = None, counselor_ids: tuple[str, ...] = ()
) -> list[Resource]:
    """List catalogue entries for a region, plus entries of the given counselors."""
    owner_rule = Resource.owner_id.is_(None)
    if counselor_ids:
        owner_rule = owner_rule | Resource.owner_id.in_(counselor_ids)
    query = select(Resource).where(owner_rule, Resource.region == region)
    if kinds:
        query = query.where(Resource.kind.in_(kinds))
    return list(db.session.scalars(query.order_by(_kind_rank(), Resource.name)))


def resource_viewers_ids(user) -> tuple[str, ...]:
    """Whose own resources this person sees: their counselors', or a counselor's own."""
    if user is None:
        return ()
    if user.role is Role.COUNSELOR:
        return (user.id,)
    return sharing_policy.counselors_of(user)


def add_own(*, counselor, data: dict) -> Resource:
    """Add a counselor's own resource; its source is the counselor, checked today."""
    resource = Resource(owner_id=counselor.id, verified_on=local_today(counselor.timezone), **data)
    db.session.add(resource)
    db.session.commit()
    return resource


def remove_own(*, counselor, resource_id: str) -> None:
    """Remove one of the counselor's own resources, or 404."""
    resource = db.session.scalar(
        select(Resource).where(Resource.id == resource_id, Resource.owner_id == counselor.id)
    )
    if resource is None:
        raise NotFound("There is no such resource of yours.")
    db.session.delete(resource)
    db.session.commit()


def kinds_for(level: str, reason_codes: set[str]) -> tuple[str, ...]:
    """Pick the resource kinds an assessment calls for, in urgency order."""
    wanted = set(KINDS_FOR_LEVEL.get(level, ()))
    wanted.update(kind for code in reason_codes for kind in KINDS_FOR_REASON.get(code, ()))
    return tuple(kind for kind in KIND_ORDER if kind in wanted)


def for_assessment(
    *, region: str, level: str, reason_codes: set[str], counselor_ids: tuple[str, ...] = ()
) -> list[Resource]:
    """Resources to show with an assessment: none when all is stable."""
    kinds = kinds_for(level, reason_codes)
    if not kinds:
        return []
    return list_resources(region=region, kinds=kinds, counselor_ids=counselor_ids)


def find_treatment(*, region: str, postal_code: str | None, radius_miles: int) -> dict:
    """Search the configured locator; on any failure fall back to helplines and a link."""
    locator = locator_from_config(current_app.config, _locator_cache())
    is_zip = bool(postal_code and US_ZIP.fullmatch(postal_code))
    if locator is not None and is_zip and region == "US":
        try:
            facilities = locator.search(postal_code, radius_miles)
            return {
                "source": "findtreatment",
                "facilities": [facility.to_dict() for facility in facilities],
                "helplines": [],
                "locator_url": deep_link(postal_code),
            }
        except LocatorError:
            log.warning("treatment locator unavailable; answering with fallback")
    return {
        "source": "fallback",
        "facilities": [],
        "helplines": list_resources(region=region, kinds=("helpline", "treatment", "crisis")),
        "locator_url": deep_link(postal_code if is_zip and region == "US" else None),
    }


def _locator_cache():
    """The app's shared cache (Redis when configured) for locator answers."""
    return current_app.extensions["steady.cache"]
