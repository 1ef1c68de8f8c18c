"""A patient's own access log."""

from server.audit import service
from server.audit.schemas import AccessLogQuerySchema, AccessLogSchema
from server.auth.models import Role
from server.auth.policy import require_role, signed_in_user
from server.common.openapi import BEARER, LINK_HEADER, ApiBlueprint, problems
from server.common.pagination import with_links

bp = ApiBlueprint(
    "access_log", __name__, url_prefix="/api/v1/me/access-log", description="My access log"
)


@bp.get("")
@require_role(Role.PATIENT)
@bp.doc(security=BEARER)
@bp.arguments(AccessLogQuerySchema(), location="query", as_kwargs=True)
@bp.response(200, AccessLogSchema, headers=LINK_HEADER)
@problems(bp, 401, 403)
def get_access_log(page=1, page_size=50):
    """See who saw or changed what of mine, and when (newest first, 50 a page)."""
    return with_links(service.access_log(patient=signed_in_user(), page=page, page_size=page_size))
