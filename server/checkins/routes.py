"""Check-in endpoints and the patient's current status (patients only)."""

from flask_jwt_extended import get_jwt_identity

from server.assessments.schemas import AssessmentSchema
from server.auth.models import Role
from server.auth.policy import require_role, signed_in_user
from server.checkins import service
from server.checkins.schemas import (
    BatchRequestSchema,
    BatchResultsSchema,
    ChangesPageSchema,
    ChangesQuerySchema,
    CheckinInputSchema,
    CheckinListQuerySchema,
    CheckinPageSchema,
    CheckinSchema,
    SavedCheckinSchema,
    checkin_fields,
)
from server.common.bodies import body_limit
from server.common.conditional import (
    answer_conditional_read,
    etag_of_body,
    request_preconditions,
)
from server.common.dates import parse_day
from server.common.openapi import (
    BEARER,
    ETAG_HEADER,
    IF_MATCH_PARAMETER,
    IF_NONE_MATCH_PARAMETER,
    LINK_HEADER,
    ApiBlueprint,
    conditional_read,
    not_modified_response,
    problems,
)
from server.common.pagination import with_links
from server.common.settings import settings
from server.extensions import limiter

# The paths beside /checkins/<day>, which a day never names.
NOT_DAYS = ("batch", "changes")
bp = ApiBlueprint(
    "checkins", __name__, url_prefix="/api/v1/checkins", description="Daily check-ins"
)
status_bp = ApiBlueprint(
    "status", __name__, url_prefix="/api/v1/status", description="How I'm doing"
)


@bp.get("")
@require_role(Role.PATIENT)
@bp.doc(security=BEARER)
@bp.arguments(CheckinListQuerySchema(), location="query", as_kwargs=True)
@bp.response(200, CheckinPageSchema, headers=LINK_HEADER)
@problems(bp, 401, 403)
def list_checkins(start=None, end=None, page=1, page_size=50):
    """List my check-ins in date order (default: the last 90 days, 50 a page)."""
    return with_links(service.list_page(signed_in_user(), start, end, page, page_size))


# Phones back online send up to 60 days at once: each is a PUT's worth of work.
batch_limit = limiter.limit(
    lambda: settings().limits["CHECKIN_BATCH_LIMIT_PER_USER"],
    key_func=lambda: f"checkin-batch:{get_jwt_identity()}",
)


@bp.post("/batch")
@require_role(Role.PATIENT)
@batch_limit
@body_limit("CHECKIN_BATCH_MAX_BYTES")
@bp.doc(
    security=BEARER,
    description="Each day is judged and stored as a PUT of it would be (conditions, "
    "validation, assessment, counselors' alerts), oldest first and each in its own "
    "transaction; the results come in the order the days were sent. One bad day does not "
    "refuse the others, and a retried batch changes nothing: days already stored answer "
    "200 with the same ETag. A body that is not an object, has no items or more than 60, "
    "or names a date twice is refused as a whole (422). Limited per patient "
    "(CHECKIN_BATCH_LIMIT_PER_USER, default 30 an hour); bodies up to "
    "CHECKIN_BATCH_MAX_BYTES (default 2 MiB).",
)
@bp.arguments(BatchRequestSchema())
@bp.response(200, BatchResultsSchema)
@problems(bp, 401, 403, 413, 415, 422, 429)
def post_batch(data):
    """Save several days queued offline (up to 60; one result per day)."""
    return {"items": service.save_batch(patient=signed_in_user(), items=data["items"])}


@bp.get("/changes")
@require_role(Role.PATIENT)
@bp.doc(
    security=BEARER,
    description="For a second device: days created, replaced or deleted after `since`, "
    "oldest first; a deleted day is a tombstone `{date, deleted: true}`. Keep next_cursor "
    "and pass it as since next time; while has_more is true, ask again at once. Deleted "
    "days are remembered for at least 90 days (CHECKIN_TOMBSTONE_DAYS): a cursor that "
    "would need one forgotten since is answered 410, with a `cursor` to resync from.",
)
@bp.arguments(ChangesQuerySchema(), location="query", as_kwargs=True)
@bp.response(200, ChangesPageSchema)
@problems(bp, 401, 403, 410, 422)
def list_changes(since=None, limit=100):
    """Follow my check-ins from another device: what changed since my cursor."""
    return service.changes_page(signed_in_user(), since, limit)


@bp.get("/<day:date>")
@require_role(Role.PATIENT)
@bp.doc(security=BEARER, parameters=conditional_read())
@bp.response(200, CheckinSchema, headers=ETAG_HEADER)
@not_modified_response(bp)
@problems(bp, 400, 401, 403, 404, 412, 422)
def get_checkin(date):
    """Get my check-in for a day (304 if If-None-Match has its ETag)."""
    preconditions = request_preconditions()
    checkin = service.get_numbered(signed_in_user(), parse_day(date))
    etag = service.etag_of(checkin)
    return answer_conditional_read(preconditions, etag) or (checkin, 200, {"ETag": etag})


@bp.put("/<day:date>")
@require_role(Role.PATIENT)
@bp.doc(security=BEARER, parameters=[IF_MATCH_PARAMETER, IF_NONE_MATCH_PARAMETER])
@bp.arguments(CheckinInputSchema())
@bp.response(200, SavedCheckinSchema, headers=ETAG_HEADER, description="Replaced")
@bp.alt_response(
    201, schema=SavedCheckinSchema, headers=ETAG_HEADER, success=True, description="Created"
)
@problems(bp, 400, 401, 403, 412, 413, 415)
def put_checkin(data, date):
    """Create or replace my check-in for a day (safe to retry; If-None-Match: * creates only)."""
    saved = service.save_day(
        patient=signed_in_user(),
        day=parse_day(date),
        data=data,
        preconditions=request_preconditions(),
    )
    body = {**checkin_fields(saved.row), "assessment": saved.assessment}
    return body, 201 if saved.created else 200, {"ETag": service.etag_of(saved.row)}


@bp.delete("/<day:date>")
@require_role(Role.PATIENT)
@bp.doc(security=BEARER)
@bp.response(204)
@problems(bp, 401, 403, 404, 422)
def delete_checkin(date):
    """Delete my check-in for a day."""
    service.delete_day(patient=signed_in_user(), day=parse_day(date))


@status_bp.get("")
@require_role(Role.PATIENT)
@etag_of_body
@status_bp.doc(security=BEARER, parameters=conditional_read())
@status_bp.response(200, AssessmentSchema, headers=ETAG_HEADER)
@not_modified_response(status_bp)
@problems(status_bp, 400, 401, 403, 412)
def get_status():
    """Get the assessment of my latest check-in (level no_data before the first)."""
    return service.status(signed_in_user())
