"""Counselors' alerts."""

from server.alerts import service
from server.alerts.schemas import AlertListSchema, AlertQuerySchema, AlertSchema
from server.auth.models import Role
from server.auth.policy import require_role, signed_in_user
from server.common.openapi import BEARER, ApiBlueprint, problems

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
@bp.response(200, AlertListSchema)
@problems(bp, 401, 403)
def list_alerts(status="open"):
    """List alerts for patients sharing their status with me."""
    return {"items": service.list_for(counselor=signed_in_user(), status=status)}


@bp.post("/<uuid:alert_id>/acknowledge")
@require_role(Role.COUNSELOR)
@bp.doc(security=BEARER)
@bp.response(200, AlertSchema)
@problems(bp, 401, 403, 404)
def acknowledge_alert(alert_id):
    """Mark an alert as seen."""
    return service.acknowledge(counselor=signed_in_user(), alert_id=str(alert_id))
