"""The signed-in person's own account."""

from server.accounts import service
from server.accounts.schemas import DeleteMeSchema, UpdateMeSchema, UserSchema
from server.auth.models import Role
from server.auth.policy import require_role, session_id, signed_in_user
from server.common.openapi import BEARER, ApiBlueprint, problems

bp = ApiBlueprint("accounts", __name__, url_prefix="/api/v1/me", description="My account")


@bp.get("")
@require_role(*Role)
@bp.doc(security=BEARER)
@bp.response(200, UserSchema)
@problems(bp, 401)
def get_me():
    """Get my account."""
    return service.me(signed_in_user())


@bp.patch("")
@require_role(*Role)
@bp.doc(security=BEARER)
@bp.arguments(UpdateMeSchema)
@bp.response(200, UserSchema)
@problems(bp, 401, 403, 413, 415)
def update_me(changes):
    """Change my name, time zone, region or password."""
    return service.update_me(principal=signed_in_user(), session_id=session_id(), changes=changes)


@bp.delete("")
@require_role(*Role)
@bp.doc(security=BEARER)
@bp.arguments(DeleteMeSchema)
@bp.response(204)
@problems(bp, 401, 403, 413, 415)
def delete_me(data):
    """Delete my account and all of my data."""
    service.delete_me(principal=signed_in_user(), password=data["password"])
