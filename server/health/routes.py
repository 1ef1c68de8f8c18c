"""Process and database probes for load balancers."""

from marshmallow import Schema, fields
from sqlalchemy import text

from server.common.openapi import ApiBlueprint
from server.errors import problem_response
from server.extensions import db

bp = ApiBlueprint("health", __name__, description="Service probes")


class ProbeSchema(Schema):
    """Probe result."""

    status = fields.String(required=True)


@bp.get("/healthz")
@bp.response(200, ProbeSchema)
def healthz():
    """Report that the process is up."""
    return {"status": "ok"}


@bp.get("/readyz")
@bp.response(200, ProbeSchema)
@bp.alt_response(503, response="SERVICE_UNAVAILABLE")
def readyz():
    """Report whether the database answers."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        db.session.rollback()
        return problem_response(503, "The database is not reachable.", slug="unavailable")
    return {"status": "ok"}
