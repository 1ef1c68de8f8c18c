"""Flask extensions, created unbound and initialised in create_app."""

import re

from flask import Flask
from flask_jwt_extended import JWTManager
from flask_jwt_extended.config import config as jwt_config
from flask_jwt_extended.default_callbacks import default_decode_key_callback
from flask_jwt_extended.tokens import _decode_jwt
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from jwt import ExpiredSignatureError, get_unverified_header

from server.db import Base
from server.errors import ProblemApi

# Responses are built from what a use case read or wrote; nothing reloads after COMMIT.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate(compare_type=True, render_as_batch=True)


class BearerSchemeAnyCase:
    """WSGI middleware spelling the auth scheme of ``Authorization`` as flask-jwt-extended does.

    Scheme names are case-insensitive (RFC 9110 §11.1), but flask-jwt-extended compares
    ``JWT_HEADER_TYPE`` exactly, so ``bearer <token>`` would count as no token at all.
    """

    def __init__(self, wsgi_app, scheme: str) -> None:
        self.wsgi_app = wsgi_app
        self.scheme = scheme
        # The scheme at the start of the field or of any comma-separated credential.
        self._any_case = re.compile(rf"(^|,)(\s*){re.escape(scheme)}(?=\s|,|$)", re.IGNORECASE)

    def __call__(self, environ, start_response):
        """Rewrite the scheme of the Authorization field in place, then call the app."""
        value = environ.get("HTTP_AUTHORIZATION")
        if value and not value.startswith(self.scheme):
            environ["HTTP_AUTHORIZATION"] = self._any_case.sub(rf"\1\2{self.scheme}", value)
        return self.wsgi_app(environ, start_response)


class SingleDecodeJWTManager(JWTManager):
    """flask-jwt-extended, verifying each token with one decode instead of three."""

    def init_app(self, app: Flask, add_context_processor: bool = False) -> None:
        """Bind to ``app`` and accept the header scheme in any case."""
        super().init_app(app, add_context_processor)
        if app.config["JWT_HEADER_TYPE"]:
            app.wsgi_app = BearerSchemeAnyCase(app.wsgi_app, app.config["JWT_HEADER_TYPE"])

    def _decode_jwt_from_config(
        self, encoded_token: str, csrf_value=None, allow_expired: bool = False
    ) -> dict:
        # Upstream decodes the claims and the header unverified first, only to hand them
        # to a decode-key callback; Steady's key is static, so that is 10 % of a request.
        if self._decode_key_callback is not default_decode_key_callback:
            return super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        options = {
            "algorithms": jwt_config.decode_algorithms,
            "audience": jwt_config.decode_audience,
            "csrf_value": csrf_value,
            "encoded_token": encoded_token,
            "identity_claim_key": jwt_config.identity_claim_key,
            "issuer": jwt_config.decode_issuer,
            "leeway": jwt_config.leeway,
            "secret": jwt_config.decode_key,
            "verify_aud": jwt_config.decode_audience is not None,
            "verify_sub": jwt_config.verify_sub,
        }
        try:
            return _decode_jwt(**options, allow_expired=allow_expired)
        except ExpiredSignatureError as expired:
            # What upstream attaches for the expired-token callback, on this rare path only.
            expired.jwt_header = get_unverified_header(encoded_token)
            expired.jwt_data = _decode_jwt(**options, allow_expired=True)
            raise


jwt = SingleDecodeJWTManager()
# CSRF tokens for the dashboard's forms (WTF_CSRF_CHECK_DEFAULT is off: it opts in).
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)
api = ProblemApi()
