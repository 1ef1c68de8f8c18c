"""Flask extensions, created unbound and initialised in create_app."""

from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from server.db import Base
from server.errors import ProblemApi

# Responses are built from what a use case read or wrote; nothing reloads after COMMIT.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate(compare_type=True, render_as_batch=True)
jwt = JWTManager()
limiter = Limiter(key_func=get_remote_address)
api = ProblemApi()
