"""A patient's trends and chart."""

from flask import Response

from server.auth.models import Role
from server.auth.policy import require_role, signed_in_user
from server.common.conditional import etag_of_body
from server.common.openapi import (
    BEARER,
    ETAG_HEADER,
    ApiBlueprint,
    conditional_read,
    not_modified_response,
    problems,
)
from server.trends import service
from server.trends.schemas import ChartQuerySchema, TrendsQuerySchema, TrendsSchema

bp = ApiBlueprint("trends", __name__, url_prefix="/api/v1/trends", description="My trends")
CHART_CONTENT = {
    media_type: {"schema": {"type": "string", "format": "binary"}}
    for media_type in service.CHART_MEDIA_TYPES.values()
}


@bp.get("")
@require_role(Role.PATIENT)
@etag_of_body
@bp.doc(security=BEARER, parameters=conditional_read())
@bp.arguments(TrendsQuerySchema(), location="query", as_kwargs=True)
@bp.response(200, TrendsSchema, headers=ETAG_HEADER)
@not_modified_response(bp)
@problems(bp, 400, 401, 403, 412)
def get_trends(start=None, end=None, align="calendar"):
    """Get my day-by-day scores and summary (default: the last 30 days; at most 366)."""
    patient = signed_in_user()
    start, end = service.resolve_range(patient, start, end)
    return service.trends_for(patient, start, end, align=align)


@bp.get("/chart")
@require_role(Role.PATIENT)
@bp.doc(
    security=BEARER, responses={"200": {"description": "Chart image", "content": CHART_CONTENT}}
)
@bp.arguments(ChartQuerySchema(), location="query", as_kwargs=True)
@problems(bp, 401, 403)
def get_chart(start=None, end=None, format="png", series=None):  # noqa: A002
    """Get a chart of my symptoms, total and flagged days (PNG by default, or SVG)."""
    patient = signed_in_user()
    start, end = service.resolve_range(patient, start, end)
    image = service.chart_for(patient, start, end, format, series)
    return Response(image, mimetype=service.CHART_MEDIA_TYPES[format])
