"""Account use cases: sign up, change settings, delete everything."""

import logging

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from server.accounts.signals import account_deleting
from server.auth import failures
from server.auth import service as auth_service
from server.auth.models import Principal, Role, User
from server.auth.passwords import hash_password, verify_password
from server.common.emails import normalise_email
from server.common.validation import DEFAULT_REGION
from server.db import begin_write, utcnow
from server.errors import Conflict, Forbidden, Unauthorized
from server.extensions import db

log = logging.getLogger(__name__)
EMAIL_TAKEN = "An account with this email already exists."
SESSION_ENDED = (
    "Too many wrong passwords for this account, so this sign-in has ended. Sign in again later."
)


def register(
    *,
    email: str,
    password: str,
    role: str,
    display_name: str,
    timezone: str = "UTC",
    region: str = DEFAULT_REGION,
) -> User:
    """Create an account with a hashed password (UTC and the default region unless given)."""
    normalised_email = normalise_email(email)
    if db.session.scalar(select(User.id).where(User.email == normalised_email)):
        raise Conflict(EMAIL_TAKEN)
    password_hash = hash_password(password)  # slow on purpose: before taking the write lock
    begin_write(db.session)
    user = User(
        email=normalised_email,
        password_hash=password_hash,
        role=Role(role),
        display_name=display_name.strip() or display_name,
        timezone=timezone,
        region=region,
    )
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        # Two sign-ups raced for the same email; the loser gets the same 409.
        db.session.rollback()
        raise Conflict(EMAIL_TAKEN) from None
    log.info("account created user=%s role=%s", user.id, user.role.value)
    return user


def _wrong_password(field: str) -> Forbidden:
    """The answer when the password given is not (or no longer) the current one."""
    return Forbidden(
        "Your current password is needed for this and was not correct.",
        errors={field: ["Must be your current password."]},
    )


def _require_password(user: User, password: str | None, field: str, session_id: str) -> None:
    """Refuse unless the given password is the user's current one.

    A wrong one counts as a failed sign-in of the account; the one that uses up its
    attempts ends this session (a stolen token cannot keep guessing).
    """
    if not password:
        raise _wrong_password(field)
    failures.refuse_if_locked(user.email)
    if verify_password(user.password_hash, password):
        return
    seconds = failures.record_failure(user.email)
    if seconds:
        auth_service.logout(session_id=session_id, reason="password_failures")
        log.warning("too many wrong passwords; session ended user=%s", user.id)
        raise failures.too_many(SESSION_ENDED, seconds)
    raise _wrong_password(field)


def _lock_with_password_unchanged(user: User, field: str) -> None:
    """Take the write lock; refuse if the password changed since it was checked."""
    begin_write(db.session)
    if not auth_service.password_unchanged(user):
        db.session.rollback()
        raise _wrong_password(field)


def me(principal: Principal) -> User:
    """The signed-in person's own account (answered 401 if it was deleted a moment ago)."""
    user = db.session.get(User, principal.id)
    if user is None:
        raise Unauthorized("This sign-in has ended. Sign in again.")
    return user


def update_me(*, principal: Principal, session_id: str, changes: dict) -> User:
    """Apply settings changes; a password change ends the user's other sessions."""
    user = me(principal)
    new_password = changes.pop("new_password", None)
    current_password = changes.pop("current_password", None)
    new_hash = None
    if new_password is not None:
        _require_password(user, current_password, "current_password", session_id)
        new_hash = hash_password(new_password)
    # argon2 ran without any lock held; the write lock covers only the change itself.
    if new_hash is not None:
        _lock_with_password_unchanged(user, "current_password")
    else:
        begin_write(db.session)
    if new_hash is not None:
        user.password_hash = new_hash
        user.password_changed_at = utcnow()
        auth_service.end_sessions(
            user_id=user.id, keep_session_id=session_id, reason="password_changed"
        )
    for field, value in changes.items():
        setattr(user, field, value)
    db.session.commit()
    return user


def delete_me(*, principal: Principal, session_id: str, password: str) -> None:
    """Delete the account; every row of the person's data goes with it (FK cascade)."""
    user = me(principal)
    _require_password(user, password, "password", session_id)
    _lock_with_password_unchanged(user, "password")
    account_deleting.send(user)
    db.session.execute(delete(User).where(User.id == user.id))
    db.session.commit()
    log.info("account deleted")
