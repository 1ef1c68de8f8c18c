"""Share endpoints: patients grant and revoke; counselors see and may step back."""

from flask_jwt_extended import get_jwt_identity

from server.auth.models import Role
from server.auth.policy import require_role, signed_in_user
from server.common.openapi import BEARER, LINK_HEADER, ApiBlueprint, problems
from server.common.pagination import with_links
from server.common.settings import settings
from server.extensions import limiter
from server.sharing import service
from server.sharing.schemas import (
    ShareCreateSchema,
    ShareListQuerySchema,
    ShareListSchema,
    ShareSchema,
)

bp = ApiBlueprint("shares", __name__, url_prefix="/api/v1/shares", description="Consent")


@bp.post("")
@require_role(Role.PATIENT)
# Every attempt counts, refused ones too: each is a row in two people's lists, or a probe.
@limiter.limit(
    lambda: settings().limits["SHARE_LIMIT_PER_PATIENT"],
    key_func=lambda: f"share:{get_jwt_identity()}",
)
@bp.doc(
    security=BEARER,
    description="Limited per patient (SHARE_LIMIT_PER_PATIENT, default 20 a day); every "
    "attempt counts.",
)
@bp.arguments(ShareCreateSchema())
@bp.response(201, ShareSchema)
@problems(bp, 401, 403, 413, 415, 429)
def create_share(data):
    """Share my log with a counselor: scoped, with a purpose, until a date."""
    return service.create(patient=signed_in_user(), **data)


@bp.get("")
@require_role(*Role)
@bp.doc(security=BEARER)
@bp.arguments(ShareListQuerySchema(), location="query", as_kwargs=True)
@bp.response(200, ShareListSchema, headers=LINK_HEADER)
@problems(bp, 401)
def list_shares(page=1, page_size=50):
    """List my shares (patient) or the shares made to me (counselor), newest first, 50 a page."""
    return with_links(service.list_for(signed_in_user(), page=page, page_size=page_size))


@bp.delete("/<uuid:share_id>")
@require_role(*Role)
@bp.doc(security=BEARER)
@bp.response(204)
@problems(bp, 401, 404)
def end_share(share_id):
    """End a share at once (the patient revokes, or the counselor steps back)."""
    service.end(user=signed_in_user(), share_id=str(share_id))
