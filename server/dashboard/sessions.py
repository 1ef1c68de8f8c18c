"""Browser sign-in: the same stored session as an API login, named in a signed cookie.

Flask's session cookie (HttpOnly, SameSite, Secure in production, path /dashboard) holds the
stored session's id, the account's id, when the browser was last seen and the CSRF token;
nothing else. Every request checks the stored session, so logout, a password change,
account deletion and refresh-token reuse end a browser sign-in at once, exactly as they end
the tokens of an API login. An idle sign-in, or one older than its absolute lifetime, is
ended here (the stored session too, so the old cookie is refused for good).
"""

import time
from datetime import timedelta
from functools import wraps
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, request, session, url_for

from server.auth import service as auth_service
from server.auth.models import Principal, Role
from server.auth.tokens import active_session
from server.db import utcnow

COUNSELORS = frozenset({Role.COUNSELOR})
ENDED = "Your sign-in has ended. Please sign in again."
IDLE = "You were signed out after {minutes} minutes without activity. Please sign in again."
EXPIRED = "You were signed out {hours} hours after signing in. Please sign in again."
# Where a signed-out browser is sent back to after signing in: dashboard pages only.
HOME_PREFIX = "/dashboard"


def sign_in(*, email: str, password: str) -> Principal:
    """Check the password, open a stored session and name it in a fresh cookie."""
    principal, session_id = auth_service.browser_login(
        email=email, password=password, roles=COUNSELORS
    )
    # Nothing of the signed-out visit (its CSRF token) carries over into the sign-in.
    session.clear()
    session["sid"], session["uid"], session["seen"] = session_id, principal.id, int(time.time())
    return principal


def sign_out() -> None:
    """End the stored session and forget the cookie's contents."""
    session_id = session.get("sid")
    if isinstance(session_id, str):
        auth_service.logout(session_id=session_id)
    session.clear()


def signed_in() -> Principal | None:
    """Who this browser is signed in as (checked once per request); None for no one."""
    if "dashboard_user" not in g:
        g.dashboard_user = _check_session()
    return g.dashboard_user


def _check_session() -> Principal | None:
    """Check the cookie's session against the stored one and the time limits."""
    session_id, user_id, seen = session.get("sid"), session.get("uid"), session.get("seen")
    if not (isinstance(session_id, str) and isinstance(user_id, str) and isinstance(seen, int)):
        return None
    found = active_session(session_id, user_id)
    if found is None:
        _forget(ENDED)
        return None
    principal, began = found
    config = current_app.config
    now = time.time()
    idle_minutes = config["DASHBOARD_IDLE_MINUTES"]
    if now - seen > idle_minutes * 60:
        auth_service.logout(session_id=session_id, reason="idle_timeout")
        _forget(IDLE.format(minutes=idle_minutes))
        return None
    lifetime_hours = config["DASHBOARD_SESSION_HOURS"]
    if utcnow() - began > timedelta(hours=lifetime_hours):
        auth_service.logout(session_id=session_id, reason="session_expired")
        _forget(EXPIRED.format(hours=lifetime_hours))
        return None
    if principal.role is not Role.COUNSELOR:
        _forget(ENDED)  # only counselors are given a browser session
        return None
    session["seen"] = int(now)
    return principal


def _forget(message: str) -> None:
    """Empty the cookie, keeping only the message shown on the sign-in page."""
    session.clear()
    flash(message, "info")


def safe_next(target: str | None) -> str | None:
    """The dashboard path to return to after signing in, or None for anything else."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith(("//", "/\\")):
        return None
    if parts.path != HOME_PREFIX and not parts.path.startswith(HOME_PREFIX + "/"):
        return None
    return target


def counselor_required(view):
    """Let a signed-in counselor through; send anyone else to the sign-in page."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if signed_in() is None:
            here = request.full_path.rstrip("?") if request.method == "GET" else None
            login = url_for("dashboard.login", next=here)
            if request.headers.get("HX-Request"):
                # htmx would swap the sign-in page into the middle of this one: go there.
                return "", 401, {"HX-Redirect": login}
            return redirect(login, 303)
        return view(*args, **kwargs)

    return wrapper
