"""Counselor views of sharing patients (404 for anyone not actively sharing the scope)."""

from flask import Response

from server.assessments.schemas import AssessmentSchema
from server.auth.models import Role
from server.auth.policy import require_role, signed_in_user
from server.checkins.schemas import CheckinListQuerySchema, CheckinPageSchema
from server.common.openapi import BEARER, LINK_HEADER, ApiBlueprint, problems
from server.common.pagination import with_links
from server.episodes import service as episodes_service
from server.episodes.schemas import EpisodeListQuerySchema, EpisodePageSchema
from server.patients import service
from server.patients.schemas import PatientListQuerySchema, PatientListSchema
from server.trends.routes import CHART_CONTENT
from server.trends.schemas import ChartQuerySchema, TrendsQuerySchema, TrendsSchema
from server.trends.service import CHART_MEDIA_TYPES

bp = ApiBlueprint(
    "patients", __name__, url_prefix="/api/v1/patients", description="Counselor views"
)


@bp.get("")
@require_role(Role.COUNSELOR)
@bp.doc(security=BEARER)
@bp.arguments(PatientListQuerySchema(), location="query", as_kwargs=True)
@bp.response(200, PatientListSchema, headers=LINK_HEADER)
@problems(bp, 401, 403)
def list_patients(page=1, page_size=50):
    """List the patients actively sharing with me, most urgent first, 50 a page."""
    return with_links(service.list_patients(signed_in_user(), page=page, page_size=page_size))


@bp.get("/<uuid:patient_id>/checkins")
@require_role(Role.COUNSELOR)
@bp.doc(security=BEARER)
@bp.arguments(CheckinListQuerySchema(), location="query", as_kwargs=True)
@bp.response(200, CheckinPageSchema, headers=LINK_HEADER)
@problems(bp, 401, 403, 404)
def list_patient_checkins(patient_id, start=None, end=None, page=1, page_size=50):
    """List a sharing patient's check-ins (notes only if the share includes them).

    Default: the last 90 days in the patient's time zone, 50 a page.
    """
    page_body = service.checkins(
        counselor=signed_in_user(),
        patient_id=str(patient_id),
        start=start,
        end=end,
        page=page,
        page_size=page_size,
    )
    return with_links(page_body)


@bp.get("/<uuid:patient_id>/episodes")
@require_role(Role.COUNSELOR)
@bp.doc(security=BEARER)
@bp.arguments(EpisodeListQuerySchema(), location="query", as_kwargs=True)
@bp.response(200, EpisodePageSchema, headers=LINK_HEADER)
@problems(bp, 401, 403, 404)
def list_patient_episodes(patient_id, page=1, page_size=50):
    """List a sharing patient's withdrawal episodes (with the checkins scope), 50 a page."""
    page_body = episodes_service.for_counselor(
        signed_in_user(), str(patient_id), page=page, page_size=page_size
    )
    return with_links(page_body)


@bp.get("/<uuid:patient_id>/trends")
@require_role(Role.COUNSELOR)
@bp.doc(security=BEARER)
@bp.arguments(TrendsQuerySchema(), location="query", as_kwargs=True)
@bp.response(200, TrendsSchema)
@problems(bp, 401, 403, 404)
def get_patient_trends(patient_id, start=None, end=None, align="calendar"):
    """Get a sharing patient's trends (?align=episode: by episode day)."""
    return service.trends(
        counselor=signed_in_user(), patient_id=str(patient_id), start=start, end=end, align=align
    )


@bp.get("/<uuid:patient_id>/trends/chart")
@require_role(Role.COUNSELOR)
@bp.doc(
    security=BEARER, responses={"200": {"description": "Chart image", "content": CHART_CONTENT}}
)
@bp.arguments(ChartQuerySchema(), location="query", as_kwargs=True)
@problems(bp, 401, 403, 404)
def get_patient_chart(patient_id, start=None, end=None, format="png", series=None):  # noqa: A002
    """Get a chart of a sharing patient's symptoms, total and flagged days."""
    image = service.chart(
        counselor=signed_in_user(),
        patient_id=str(patient_id),
        start=start,
        end=end,
        image_format=format,
        series=series,
    )
    return Response(image, mimetype=CHART_MEDIA_TYPES[format])


@bp.get("/<uuid:patient_id>/status")
@require_role(Role.COUNSELOR)
@bp.doc(security=BEARER)
@bp.response(200, AssessmentSchema)
@problems(bp, 401, 403, 404)
def get_patient_status(patient_id):
    """Get the assessment of a sharing patient's latest check-in."""
    return service.status(counselor=signed_in_user(), patient_id=str(patient_id))
