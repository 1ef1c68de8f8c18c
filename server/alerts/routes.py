"""Counselors' alerts."""

from server.alerts import service
from server.alerts.schemas import AlertListSchema, AlertQuerySchema, AlertSchema
from server.auth.models import Role
from server.auth.policy import require_role, signed_in_user
from server.common.openapi import BEARER, LINK_HEADER, ApiBlueprint, problems
from server.common.pagination import with_links

bp = ApiBlueprint(
    "alerts",
    __name__,
    url_prefix="/api/v1/alerts",
    description="Alerts (not an emergency service: crisis resources always come first)",
)


@bp.get("")
@require_role(Role.COUNSELOR)
@bp.doc(security=BEARER)
@bp.arguments(AlertQuerySchema(), location="query", as_kwargs=True)
@bp.response(200, AlertListSchema, headers=LINK_HEADER)
@problems(bp, 401, 403)
def list_alerts(status="open", page=1, page_size=50):
    """List alerts for patients sharing their status with me (most urgent first, 50 a page)."""
    page_body = service.list_for(
        counselor=signed_in_user(), status=status, page=page, page_size=page_size
    )
    return with_links(page_body)


@bp.post("/<uuid:alert_id>/acknowledge")
@require_role(Role.COUNSELOR)
@bp.doc(security=BEARER)
@bp.response(200, AlertSchema)
@problems(bp, 401, 403, 404)
def acknowledge_alert(alert_id):
    """Mark an alert as seen."""
    return service.acknowledge(counselor=signed_in_user(), alert_id=str(alert_id))
