"""JWT callbacks: session-backed revocation, user loading and problem+json failures.

A client must tell "refresh quietly" from "sign the person out", and nothing more: an
expired token says so (``token-expired``); every other failure is ``unauthorized`` and does
not say why. The ``WWW-Authenticate`` challenge follows RFC 6750 §3: ``error="invalid_token"``
when a token was sent, no error when none was.
"""

from datetime import datetime

from flask import Flask, g
from sqlalchemy import bindparam, select

from server.auth.models import AuthSession, Principal, User
from server.errors import bearer_challenge, problem_response
from server.extensions import db, jwt

INVALID_TOKEN_DETAIL = "Missing or invalid credentials. Sign in again."
# error_description (RFC 6750 §3) and the problem detail, by the expired token's type.
EXPIRED = {
    "access": ("The access token expired", "Get a new pair from POST /api/v1/auth/refresh."),
    "refresh": ("The refresh token expired", "Sign in again."),
}


def _unauthorized(error: str | None):
    """401 ``unauthorized``, challenging with ``error`` (None when no token was sent)."""
    return problem_response(
        401,
        INVALID_TOKEN_DETAIL,
        slug="unauthorized",
        headers={"WWW-Authenticate": bearer_challenge(error)},
    )


def _no_token(_reason: str):
    """No bearer token in the request."""
    return _unauthorized(None)


def _token_rejected(*_args):
    """A token was sent but is malformed, wrongly signed, of the wrong type or revoked."""
    return _unauthorized("invalid_token")


def _token_expired(_header: dict, payload: dict):
    """A well-signed token past its expiry: the client can act on this one."""
    description, advice = EXPIRED["refresh" if payload.get("type") == "refresh" else "access"]
    return problem_response(
        401,
        f"{description}. {advice}",
        slug="token-expired",
        headers={"WWW-Authenticate": bearer_challenge("invalid_token", description)},
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

    jwt.unauthorized_loader(_no_token)
    jwt.expired_token_loader(_token_expired)
    for loader in (
        jwt.invalid_token_loader,
        jwt.revoked_token_loader,
        jwt.needs_fresh_token_loader,
        jwt.user_lookup_error_loader,
        jwt.token_verification_failed_loader,
    ):
        loader(_token_rejected)
