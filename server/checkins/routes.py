"""Check-in endpoints and the patient's current status (patients only)."""

from flask import request

from server.assessments.schemas import AssessmentSchema
from server.auth.models import Role
from server.auth.policy import require_role, signed_in_user
from server.checkins import service
from server.checkins.schemas import (
    CheckinInputSchema,
    CheckinListQuerySchema,
    CheckinPageSchema,
    CheckinSchema,
    SavedCheckinSchema,
    checkin_fields,
)
from server.common.dates import parse_day
from server.common.openapi import (
    BEARER,
    ETAG_HEADER,
    IF_MATCH_PARAMETER,
    LINK_HEADER,
    ApiBlueprint,
    problems,
)
from server.common.pagination import with_links

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


@bp.get("/<day:date>")
@require_role(Role.PATIENT)
@bp.doc(security=BEARER)
@bp.response(200, CheckinSchema, headers=ETAG_HEADER)
@problems(bp, 401, 403, 404, 422)
def get_checkin(date):
    """Get my check-in for a day."""
    checkin = service.get_or_404(signed_in_user().id, parse_day(date))
    return checkin, 200, {"ETag": service.etag_of(checkin)}


@bp.put("/<day:date>")
@require_role(Role.PATIENT)
@bp.doc(security=BEARER, parameters=[IF_MATCH_PARAMETER])
@bp.arguments(CheckinInputSchema())
@bp.response(200, SavedCheckinSchema, headers=ETAG_HEADER, description="Replaced")
@bp.alt_response(
    201, schema=SavedCheckinSchema, headers=ETAG_HEADER, success=True, description="Created"
)
@problems(bp, 401, 403, 412, 413, 415)
def put_checkin(data, date):
    """Create or replace my check-in for a day (safe to retry)."""
    saved = service.save_day(
        patient=signed_in_user(),
        day=parse_day(date),
        data=data,
        if_match=request.headers.get("If-Match"),
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
@status_bp.doc(security=BEARER)
@status_bp.response(200, AssessmentSchema)
@problems(status_bp, 401, 403)
def get_status():
    """Get the assessment of my latest check-in (level no_data before the first)."""
    return service.status(signed_in_user())
