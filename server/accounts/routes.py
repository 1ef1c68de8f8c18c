"""The signed-in person's own account."""

from server.accounts import service
from server.accounts.schemas import DeleteMeSchema, RegisterSchema, UpdateMeSchema, UserSchema
from server.auth.models import Role
from server.auth.policy import require_role, session_id, signed_in_user
from server.auth.routes import bp as auth_bp
from server.common.openapi import BEARER, ApiBlueprint, problems
from server.common.settings import settings
from server.extensions import limiter

bp = ApiBlueprint("accounts", __name__, url_prefix="/api/v1/me", description="My account")


# Sign-up is an accounts use case, served beside sign-in under /auth.
@auth_bp.post("/register")
@limiter.limit(lambda: settings().limits["REGISTER_LIMIT_PER_IP"])
@auth_bp.arguments(RegisterSchema())
@auth_bp.response(201, UserSchema)
@problems(auth_bp, 409, 413, 415, 429)
def register(data):
    """Create a patient or counselor account."""
    return service.register(**data)


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
@bp.doc(
    security=BEARER,
    description="A wrong current_password counts as a failed sign-in of the account "
    "(LOGIN_FAILURES_PER_ACCOUNT, shared with POST /auth/login); the attempt that uses up "
    "the account's attempts answers 429 and ends this sign-in session.",
)
@bp.arguments(UpdateMeSchema())
@bp.response(200, UserSchema)
@problems(bp, 401, 403, 413, 415, 429)
def update_me(changes):
    """Change my name, time zone, region or password."""
    return service.update_me(principal=signed_in_user(), session_id=session_id(), changes=changes)


@bp.delete("")
@require_role(*Role)
@bp.doc(
    security=BEARER,
    description="A wrong password counts as a failed sign-in of the account, as on PATCH /me.",
)
@bp.arguments(DeleteMeSchema())
@bp.response(204)
@problems(bp, 401, 403, 413, 415, 429)
def delete_me(data):
    """Delete my account and all of my data."""
    service.delete_me(
        principal=signed_in_user(), session_id=session_id(), password=data["password"]
    )
