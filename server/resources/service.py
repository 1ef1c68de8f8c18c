"""Resource use cases: the catalogue, what fits an assessment, and the treatment locator."""

import logging

from flask import current_app
from sqlalchemy import Connection, case, delete, insert, select, update

from server.db import utcnow
from server.extensions import db
from server.resources.catalogue import load_catalogue
from server.resources.locator import LocatorError, deep_link, locator_from_config
from server.resources.models import Resource

log = logging.getLogger(__name__)

# Kinds shown for each reason an assessment can give, most urgent first.
KINDS_FOR_LEVEL = {
    "crisis": ("emergency", "crisis"),
    "severe": ("crisis", "emergency", "medical", "treatment", "helpline"),
    "worsening": ("treatment", "helpline"),
}
KINDS_FOR_REASON = {
    "overdose_risk": ("harm_reduction", "emergency"),
    "dehydration_risk": ("medical", "emergency"),
}
KIND_ORDER = ("emergency", "crisis", "harm_reduction", "medical", "treatment", "helpline")


def sync_catalogue(connection: Connection) -> None:
    """Make the catalogue rows equal the shipped file (used by migrations and seeding)."""
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


def kinds_for(level: str, reason_codes: set[str]) -> tuple[str, ...]:
    """Pick the resource kinds an assessment should surface, in urgency order."""
    wanted = set(KINDS_FOR_LEVEL.get(level, ()))
    for code in reason_codes:
        wanted.update(KINDS_FOR_REASON.get(code, ()))
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
    if locator is not None and postal_code and region == "US":
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
        "locator_url": deep_link(postal_code if region == "US" else None),
    }


def _locator_cache():
    """The app's shared cache (Redis when configured) for locator answers."""
    return current_app.extensions["steady.cache"]
