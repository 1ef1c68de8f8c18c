"""Who may call what: roles on top of a valid session."""

from functools import wraps

from flask_jwt_extended import current_user, get_current_user, get_jwt, verify_jwt_in_request

from server.auth.models import Principal, Role
from server.errors import Forbidden


def signed_in_user() -> Principal:
    """Return who the verified access token speaks for (the object, not a proxy to it)."""
    return get_current_user()


def session_id() -> str:
    """Return the sign-in session of the verified token."""
    return get_jwt()["sid"]


def require_role(*roles: Role):
    """Let only the given roles through; others get 403."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            verify_jwt_in_request()
            if current_user.role not in roles:
                names = " or ".join(r.value + "s" for r in roles)
                raise Forbidden(f"Only {names} can do this.")
            return view(*args, **kwargs)

        return wrapper

    return decorator
