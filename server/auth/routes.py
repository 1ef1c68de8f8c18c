"""Sign-up, sign-in, token refresh and sign-out."""

from flask_jwt_extended import current_user, get_jwt, jwt_required

from server.auth import service
from server.auth.models import Role
from server.auth.policy import require_role, session_id
from server.auth.schemas import LoginSchema, TokenPairSchema
from server.common.openapi import BEARER, ApiBlueprint, problems
from server.common.settings import settings
from server.extensions import limiter

bp = ApiBlueprint("auth", __name__, url_prefix="/api/v1/auth", description="Sign-up and sessions")


@bp.post("/login")
# Shared with the dashboard's sign-in form: one allowance per address for both doors.
@limiter.shared_limit(lambda: settings().limits["LOGIN_LIMIT_PER_IP"], scope="login")
@bp.doc(
    description="Limited per IP (LOGIN_LIMIT_PER_IP). Wrong passwords count per account "
    "(LOGIN_FAILURES_PER_ACCOUNT), together with those given to PATCH and DELETE /me."
)
@bp.arguments(LoginSchema())
@bp.response(200, TokenPairSchema)
@problems(bp, 401, 413, 415, 429)
def login(data):
    """Sign in and get an access token and a refresh token."""
    return service.login(email=data["email"], password=data["password"])


@bp.post("/refresh")
@jwt_required(refresh=True)
@bp.doc(
    security=BEARER,
    description="Send the refresh token as the Bearer token. Each refresh token works "
    "once; using one again ends the whole sign-in session.",
)
@bp.response(200, TokenPairSchema)
@problems(bp, 401)
def refresh():
    """Swap a refresh token for a new token pair."""
    return service.refresh(user=current_user, payload=get_jwt())


@bp.post("/logout")
@require_role(*Role)
@bp.doc(security=BEARER)
@bp.response(204)
@problems(bp, 401)
def logout():
    """End this sign-in session everywhere, at once."""
    service.logout(session_id=session_id())
