"""A patient's current status."""

from server.accounts.models import Role
from server.assessments import service
from server.assessments.schemas import AssessmentSchema
from server.auth.policy import require_role, signed_in_user
from server.common.openapi import BEARER, ApiBlueprint, problems

bp = ApiBlueprint("status", __name__, url_prefix="/api/v1/status", description="How I'm doing")


@bp.get("")
@require_role(Role.PATIENT)
@bp.doc(security=BEARER)
@bp.response(200, AssessmentSchema)
@problems(bp, 401, 403)
def get_status():
    """Get the assessment of my latest check-in (level no_data before the first)."""
    return service.status(signed_in_user())
