"""JWT callbacks: session-backed revocation, user loading and problem+json failures."""

from flask import Flask, g
from sqlalchemy import select

from server.accounts.models import User
from server.auth.models import AuthSession
from server.errors import problem_response
from server.extensions import db, jwt

INVALID_TOKEN_DETAIL = "Missing or invalid credentials. Sign in again."


def _unauthorized(*_args):
    """Answer every token failure the same way, without saying why."""
    return problem_response(
        401,
        INVALID_TOKEN_DETAIL,
        slug="unauthorized",
        headers={"WWW-Authenticate": 'Bearer realm="steady"'},
    )


def _active_user(payload: dict) -> User | None:
    """Load the token's user if its session is still active."""
    return db.session.scalar(
        select(User)
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(
            AuthSession.id == payload.get("sid"),
            AuthSession.revoked_at.is_(None),
            User.id == payload.get("sub"),
        )
    )


def register_jwt_callbacks(app: Flask) -> None:
    """Wire flask-jwt-extended to sessions and to the problem format."""

    @jwt.token_in_blocklist_loader
    def token_is_revoked(_header, payload) -> bool:
        # One query answers both "is the session alive" and "who is this".
        g.token_user = _active_user(payload)
        return g.token_user is None

    @jwt.user_lookup_loader
    def load_user(_header, _payload) -> User | None:
        return g.get("token_user")

    for loader in (
        jwt.unauthorized_loader,
        jwt.invalid_token_loader,
        jwt.expired_token_loader,
        jwt.revoked_token_loader,
        jwt.needs_fresh_token_loader,
        jwt.user_lookup_error_loader,
        jwt.token_verification_failed_loader,
    ):
        loader(_unauthorized)
