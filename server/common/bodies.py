"""Request bodies larger than MAX_CONTENT_LENGTH, for the views that need them."""

from flask import Flask, request

# The view attribute naming the setting (bytes) that replaces MAX_CONTENT_LENGTH for it.
BODY_LIMIT_ATTRIBUTE = "steady_body_limit_setting"


def body_limit(setting: str):
    """Let a view take bodies up to the `setting` config value instead of MAX_CONTENT_LENGTH."""

    def decorator(view):
        setattr(view, BODY_LIMIT_ATTRIBUTE, setting)
        return view

    return decorator


def body_limit_of_request(app: Flask, default: int) -> int:
    """The body limit of the view this request goes to."""
    view = app.view_functions.get(request.endpoint)
    setting = getattr(view, BODY_LIMIT_ATTRIBUTE, None)
    return default if setting is None else app.config[setting]
