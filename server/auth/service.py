"""Sign-in use cases: login, refresh rotation with reuse detection, logout."""

import logging

from flask_jwt_extended import create_access_token, create_refresh_token, get_jti
from sqlalchemy import select, update

from server.auth import failures
from server.auth.models import AuthSession, Principal, RefreshToken, Role, User
from server.auth.passwords import hash_password, needs_rehash, verify_password
from server.common.emails import normalise_email
from server.common.settings import settings
from server.db import begin_write, utcnow
from server.errors import Forbidden, Unauthorized
from server.extensions import db

log = logging.getLogger(__name__)
BAD_CREDENTIALS = "Email or password is incorrect."
WRONG_ROLE = "This account cannot sign in here."


def _issue_tokens(user: User | Principal, auth_session: AuthSession) -> dict:
    """Mint an access token and a recorded refresh token for a session."""
    claims = {"sid": auth_session.id, "role": user.role.value}
    access_token = create_access_token(identity=user.id, additional_claims=claims)
    refresh_token = create_refresh_token(identity=user.id, additional_claims=claims)
    lifetimes = settings()
    lifetime = lifetimes.refresh_token_lifetime
    db.session.add(
        RefreshToken(
            jti=get_jti(refresh_token),
            session_id=auth_session.id,
            expires_at=utcnow() + lifetime,
        )
    )
    return {
        "access_token": access_token,
        "refresh_token": refresh_token,
        "token_type": "Bearer",
        "expires_in": int(lifetimes.access_token_lifetime.total_seconds()),
    }


def password_unchanged(user: User) -> bool:
    """In a write transaction: the stored hash is still the one just verified (row locked).

    argon2 runs before the write lock is taken, so a password change may land in between;
    acting on the stale hash would undo it or keep a session it should have ended.
    """
    stored = db.session.scalar(
        select(User.password_hash).where(User.id == user.id).with_for_update()
    )
    return stored is not None and stored == user.password_hash


def _open_session(*, email: str, password: str, roles: frozenset[Role] | None = None):
    """Check credentials and record a new session; the caller adds to it and commits.

    With `roles`, a right password of another role is refused (403) before any session
    exists: the password is checked first, so the answer tells a stranger nothing.
    """
    failures.refuse_if_locked(email)
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if not verify_password(user.password_hash if user else None, password):
        log.info("login failed")
        failures.record_failure(email)
        raise Unauthorized(BAD_CREDENTIALS)
    if roles is not None and user.role not in roles:
        raise Forbidden(WRONG_ROLE)
    # argon2 ran without any lock held; only the short write below takes it.
    new_hash = hash_password(password) if needs_rehash(user.password_hash) else None
    begin_write(db.session)
    if not password_unchanged(user):
        db.session.rollback()
        raise Unauthorized(BAD_CREDENTIALS)
    if new_hash:
        user.password_hash = new_hash
    auth_session = AuthSession(user_id=user.id)
    db.session.add(auth_session)
    db.session.flush()
    return user, auth_session


def login(*, email: str, password: str) -> dict:
    """Check credentials and open a new session."""
    user, auth_session = _open_session(email=email, password=password)
    tokens = _issue_tokens(user, auth_session)
    db.session.commit()
    log.info("login succeeded user=%s", user.id)
    return tokens


def browser_login(*, email: str, password: str, roles: frozenset[Role]) -> tuple[Principal, str]:
    """Open a session for a browser (no tokens: a cookie carries its id); return who and it.

    The session is the same stored row as an API login's, so logout, a password change,
    account deletion and reuse detection end it the same way.
    """
    user, auth_session = _open_session(email=email, password=password, roles=roles)
    principal = Principal(user.id, user.role, user.display_name, user.timezone, user.region)
    db.session.commit()
    log.info("browser login succeeded user=%s", user.id)
    return principal, auth_session.id


def refresh(*, user: Principal, payload: dict) -> dict:
    """Rotate a refresh token; a second use of one revokes its whole session."""
    begin_write(db.session)
    now = utcnow()
    claimed = db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.jti == payload["jti"], RefreshToken.used_at.is_(None))
        .values(used_at=now)
    )
    auth_session = db.session.get(AuthSession, payload["sid"])
    if auth_session is None:  # the account was deleted a moment ago
        db.session.rollback()
        raise Unauthorized("This sign-in has ended. Sign in again.")
    if claimed.rowcount != 1:
        auth_session.revoked_at = now
        auth_session.revoked_reason = "refresh_reuse"
        db.session.commit()
        log.warning("refresh token reuse; session revoked user=%s", user.id)
        raise Unauthorized("This sign-in has ended. Sign in again.")
    tokens = _issue_tokens(user, auth_session)
    db.session.commit()
    return tokens


def logout(*, session_id: str, reason: str = "logout") -> None:
    """End one session: its access and refresh tokens stop working."""
    begin_write(db.session)
    db.session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )
    db.session.commit()


def end_sessions(*, user_id: str, keep_session_id: str | None, reason: str) -> None:
    """Revoke a user's sessions except one; the caller commits."""
    query = update(AuthSession).where(
        AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)
    )
    if keep_session_id:
        query = query.where(AuthSession.id != keep_session_id)
    db.session.execute(query.values(revoked_at=utcnow(), revoked_reason=reason))
