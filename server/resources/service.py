"""Resource use cases: the catalogue, what fits an assessment, and the treatment locator."""

import dataclasses
import functools
import logging
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import Connection, case, delete, func, insert, inspect, select, update

from server.auth.models import User
from server.common.settings import settings
from server.common.validation import REGION_CODES
from server.db import begin_write, utcnow
from server.errors import NotFound, ValidationFailed
from server.extensions import db
from server.resources.catalogue import (
    CATALOGUE_NAMESPACE,
    contact_text,
    load_catalogue,
    shipped_catalogue,
    shown_number,
    treatment_finder_url,
)
from server.resources.locator import LocatorError, deep_link, radius_bucket
from server.resources.models import Resource

log = logging.getLogger(__name__)
US_ZIP = re.compile(r"[0-9]{5}(-[0-9]{4})?")

# Kinds shown for a day's level and for each of its reasons; a day gets the union, so a
# crisis that is also severe still lists treatment and medical help after the lines.
SUPPORT_KINDS = ("treatment", "clinic", "helpline", "peer_support")
KINDS_FOR_LEVEL = {
    "crisis": ("emergency", "crisis", "directory"),
    "severe": ("crisis", "emergency", "directory", "medical", *SUPPORT_KINDS),
    "worsening": SUPPORT_KINDS,
}
KINDS_FOR_REASON = {
    "crisis": ("emergency", "crisis", "directory"),
    "severe_symptoms": ("crisis", "emergency", "directory", "medical", *SUPPORT_KINDS),
    "dehydration_risk": ("medical", "emergency"),
    "overdose_risk": ("harm_reduction", "emergency"),
    "worsening_total": SUPPORT_KINDS,
    "worsening_symptom": SUPPORT_KINDS,
}
MAX_OWN_RESOURCES = 20
KIND_ORDER = (
    "emergency",
    "crisis",
    "directory",
    "harm_reduction",
    "medical",
    "treatment",
    "clinic",
    "helpline",
    "peer_support",
)
# Shown first wherever an emergency entry is called for but the region has none that is
# confirmed: never a number nobody has confirmed, and 112/911 only as something to try.
FALLBACK_EMERGENCY_NAME = "Your local emergency number"
FALLBACK_EMERGENCY_TEXT = (
    "If you or someone with you may be overdosing, can't be woken, is struggling to "
    "breathe, or you might act on thoughts of suicide, call your local emergency number "
    "now. We don't have a confirmed emergency number for your location. On a mobile "
    "phone, 112, and in many countries 911, is treated as an emergency call and is "
    "usually connected to local emergency services, but this isn't guaranteed "
    "everywhere. If you can see or know your local emergency number, use that."
)


def sync_catalogue(connection: Connection) -> None:
    """Make the catalogue rows equal the shipped file (migrations, CLI, tests)."""
    catalogue = shipped_catalogue()
    table = Resource.__table__
    existing = set(connection.scalars(select(table.c.id).where(table.c.owner_id.is_(None))))
    # An older migration loads the catalogue into its own, older table: it gets the
    # columns it has, and the migration that adds a column syncs again.
    present = {column["name"] for column in inspect(connection).get_columns(table.name)}
    now = utcnow()
    for entry in catalogue.entries:
        values = {
            "catalogue_key": entry.key,
            "name": entry.name,
            "kind": entry.kind,
            "region": entry.region,
            "phone": entry.phone,
            "sms_number": entry.sms_number,
            "sms_body": entry.sms_body,
            "display": entry.display,
            "url": entry.url,
            "hours": entry.hours,
            "description": entry.description,
            "source_url": entry.source_url,
            "verified_on": entry.verified_on,
            "second_hand": entry.second_hand,
            "updated_at": now,
        }
        values = {name: value for name, value in values.items() if name in present}
        if entry.id in existing:
            connection.execute(update(table).where(table.c.id == entry.id).values(**values))
        else:
            connection.execute(insert(table).values(id=entry.id, created_at=now, **values))
    shipped = {entry.id for entry in catalogue.entries}
    stale = existing - shipped
    if stale:
        connection.execute(delete(table).where(table.c.id.in_(stale)))


_resources, _owners = Resource.__table__, User.__table__
_WITH_OWNERS = _resources.outerjoin(_owners, _owners.c.id == _resources.c.owner_id)
# Rows change only through migrations, sync-resources and counselors' edits, each of which
# moves the count or a newest update time: a one-row aggregate tells a cached copy is stale.
_STAMP = select(
    func.count(_resources.c.id), func.max(_resources.c.updated_at), func.max(_owners.c.updated_at)
).select_from(_WITH_OWNERS)
_ALL = (
    select(*_resources.c, _owners.c.display_name.label("owner_name"))
    .select_from(_WITH_OWNERS)
    .order_by(
        case({kind: rank for rank, kind in enumerate(KIND_ORDER)}, value=_resources.c.kind),
        _resources.c.name,
    )
)


@dataclass(frozen=True, slots=True)
class ResourceView:
    """A resource as shown to people (read-only, cached per process)."""

    id: str
    name: str
    kind: str
    region: str
    phone: str | None
    sms_number: str | None
    sms_body: str | None
    display: str | None
    url: str | None
    hours: str | None
    description: str
    source_url: str | None
    verified_on: date | None
    second_hand: bool
    owner_id: str | None
    owner_name: str | None
    added_on: date | None  # counselors' entries: the day added (they carry no verified_on)

    @property
    def sms(self) -> dict | None:
        """Where to text and what, or None for an entry that takes no text messages."""
        if self.sms_number is None:
            return None
        return {"number": self.sms_number, "body": self.sms_body}

    @property
    def provided_by(self) -> dict | None:
        """The counselor who added this entry, or None for the shipped catalogue."""
        if self.owner_id is None:
            return None
        return {"id": self.owner_id, "display_name": self.owner_name}


_COLUMNS = [field.name for field in dataclasses.fields(ResourceView) if field.name != "added_on"]


def _view(row) -> ResourceView:
    """A resource row as shown to people."""
    values = {name: row._mapping[name] for name in _COLUMNS}
    added_on = row.created_at.date() if row.owner_id is not None else None  # a UTC date
    return ResourceView(**values, added_on=added_on)


def fallback_emergency(region: str) -> ResourceView:
    """The fixed emergency advice for a region without a confirmed emergency number."""
    return ResourceView(
        id=str(uuid.uuid5(CATALOGUE_NAMESPACE, f"{region.lower()}-emergency-fallback")),
        name=FALLBACK_EMERGENCY_NAME,
        kind="emergency",
        region=region,
        phone=None,
        sms_number=None,
        sms_body=None,
        display=None,
        url=None,
        hours=None,
        description=FALLBACK_EMERGENCY_TEXT,
        source_url=None,
        verified_on=None,
        second_hand=False,
        owner_id=None,
        owner_name=None,
        added_on=None,
    )


class ResourceCache:
    """Every resource row in memory by region, reloaded when the database's stamp moves."""

    def __init__(self) -> None:
        self._snapshot: tuple[tuple, dict[str, tuple[ResourceView, ...]]] | None = None

    def rows(self, region: str) -> tuple[ResourceView, ...]:
        """A region's current rows, after one cheap check that the copy is still valid."""
        stamp = tuple(db.session.execute(_STAMP).one())
        snapshot = self._snapshot
        if snapshot is None or snapshot[0] != stamp:
            by_region = defaultdict(list)
            for row in db.session.execute(_ALL):
                by_region[row.region].append(_view(row))
            regions = {region: tuple(rows) for region, rows in by_region.items()}
            snapshot = self._snapshot = (stamp, regions)
        return snapshot[1].get(region, ())


def _cache() -> ResourceCache:
    """The resource cache of the current app (one per app: test apps never share one)."""
    return current_app.extensions.setdefault("steady.resources", ResourceCache())


def list_resources(
    *, region: str, kinds: tuple[str, ...] | None = None, counselor_ids: tuple[str, ...] = ()
) -> list[ResourceView]:
    """List catalogue entries for a region, then entries of the given counselors."""
    rows = [
        row
        for row in _cache().rows(region)
        if (row.owner_id is None or row.owner_id in counselor_ids)
        and (not kinds or row.kind in kinds)
    ]
    # A counselor's entry never ranks above Steady's catalogue (stable: kind order kept).
    return sorted(rows, key=lambda row: row.owner_id is not None)


def add_own(*, counselor, data: dict) -> ResourceView:
    """Add a counselor's own resource (at most MAX_OWN_RESOURCES); nobody verified it."""
    begin_write(db.session)
    # PostgreSQL: two adds at once by one counselor queue here, so the count below holds.
    db.session.execute(select(_owners.c.id).where(_owners.c.id == counselor.id).with_for_update())
    owned = db.session.scalar(
        select(func.count()).select_from(_resources).where(_resources.c.owner_id == counselor.id)
    )
    if owned >= MAX_OWN_RESOURCES:
        raise ValidationFailed(
            "You have as many resources as a counselor may have.",
            errors={"body": [f"At most {MAX_OWN_RESOURCES} resources per counselor."]},
        )
    region = data["region"]
    display = contact_text(
        shown_number(data["phone"], region) if data["phone"] else None,
        shown_number(data["sms_number"], region) if data["sms_number"] else None,
        data["sms_body"],
    )
    resource = Resource(
        owner_id=counselor.id, verified_on=None, second_hand=False, display=display, **data
    )
    db.session.add(resource)
    db.session.flush()
    view = ResourceView(
        **{name: getattr(resource, name) for name in _COLUMNS if name != "owner_name"},
        owner_name=counselor.display_name,
        added_on=resource.created_at.date(),
    )
    db.session.commit()
    return view


def remove_own(*, counselor, resource_id: str) -> None:
    """Remove one of the counselor's own resources, or 404."""
    begin_write(db.session)
    resource = db.session.scalar(
        select(Resource).where(Resource.id == resource_id, Resource.owner_id == counselor.id)
    )
    if resource is None:
        raise NotFound("There is no such resource of yours.")
    db.session.delete(resource)
    db.session.commit()


@functools.cache
def region_coverage() -> tuple[dict, ...]:
    """What each ISO 3166-1 region gets: curated entries, its emergency entry, its finder."""
    catalogue = shipped_catalogue()
    curated = {entry.key for entry in load_catalogue().entries}
    regions = []
    for code in REGION_CODES:
        entries = catalogue.for_region(code)
        emergency = [entry for entry in entries if entry.kind == "emergency"]
        if any(entry.key in curated for entry in emergency):
            source = "curated"
        else:
            source = "derived" if emergency else "fallback"
        regions.append(
            {
                "code": code,
                "curated": any(entry.key in curated for entry in entries),
                "emergency": source,
                "treatment_finder_url": (
                    deep_link(None) if code == "US" else treatment_finder_url(code)
                ),
            }
        )
    return tuple(regions)


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
    rows = list_resources(region=region, kinds=kinds, counselor_ids=counselor_ids)
    if "emergency" in kinds and not (
        rows and rows[0].kind == "emergency" and not rows[0].owner_id
    ):
        rows.insert(0, fallback_emergency(region))
    return rows


def find_treatment(*, region: str, postal_code: str | None, radius_miles: int) -> dict:
    """Search the configured locator; on any failure fall back to helplines and a link."""
    # Built and validated once at start-up (server.register_settings), None when unset.
    locator = settings().locator
    radius_miles = radius_bucket(radius_miles)
    is_zip = bool(postal_code and US_ZIP.fullmatch(postal_code))
    if locator is not None and is_zip and region == "US":
        try:
            facilities = locator.search(postal_code, radius_miles)
            return {
                "source": "findtreatment",
                "radius_miles": radius_miles,
                "facilities": [facility.to_dict() for facility in facilities],
                "helplines": [],
                "locator_url": deep_link(postal_code),
            }
        except LocatorError:
            log.warning("treatment locator unavailable; answering with fallback")
    return {
        "source": "fallback",
        "radius_miles": radius_miles,
        "facilities": [],
        "helplines": list_resources(
            region=region, kinds=("helpline", "treatment", "crisis", "directory")
        ),
        "locator_url": (
            deep_link(postal_code if is_zip else None)
            if region == "US"
            else treatment_finder_url(region)
        ),
    }
