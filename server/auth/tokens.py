"""JWT callbacks: session-backed revocation, user loading and problem+json failures."""

from datetime import datetime

from flask import Flask, g
from sqlalchemy import bindparam, select

from server.auth.models import AuthSession, Principal, User
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


_users, _sessions = User.__table__, AuthSession.__table__
# Built once: this runs on every authenticated request.
ACTIVE_PRINCIPAL = (
    select(_users.c.id, _users.c.role, _users.c.display_name, _users.c.timezone, _users.c.region)
    .join(_sessions, _sessions.c.user_id == _users.c.id)
    .where(
        _sessions.c.id == bindparam("sid"),
        _sessions.c.revoked_at.is_(None),
        _users.c.id == bindparam("sub"),
    )
)
# The same check for a browser session, with when it began (its absolute lifetime).
ACTIVE_SESSION = ACTIVE_PRINCIPAL.add_columns(_sessions.c.created_at)


def _active_principal(payload: dict) -> Principal | None:
    """Who the token speaks for, if its session is still active."""
    sid, sub = payload.get("sid"), payload.get("sub")
    if not isinstance(sid, str) or not isinstance(sub, str):
        return None
    row = db.session.execute(ACTIVE_PRINCIPAL, {"sid": sid, "sub": sub}).first()
    return Principal(*row) if row else None


def active_session(session_id: str, user_id: str) -> tuple[Principal, datetime] | None:
    """Who a browser session speaks for and when it began, if it is still active."""
    row = db.session.execute(ACTIVE_SESSION, {"sid": session_id, "sub": user_id}).first()
    return (Principal(*row[:-1]), row[-1]) if row else None


def register_jwt_callbacks(app: Flask) -> None:
    """Wire flask-jwt-extended to sessions and to the problem format."""

    @jwt.token_in_blocklist_loader
    def token_is_revoked(_header, payload) -> bool:
        # One query answers both "is the session alive" and "who is this".
        g.token_user = _active_principal(payload)
        return g.token_user is None

    @jwt.user_lookup_loader
    def load_user(_header, _payload) -> Principal | None:
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
