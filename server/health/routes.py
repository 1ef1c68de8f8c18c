"""Process and dependency probes for load balancers."""

from marshmallow import Schema, fields, validate

from server.common.openapi import ApiBlueprint
from server.errors import problem_response
from server.health import service

bp = ApiBlueprint("health", __name__, description="Service probes")


class ProbeSchema(Schema):
    """Probe result."""

    status = fields.String(required=True, validate=validate.OneOf(["ok"]))


class ReadinessSchema(ProbeSchema):
    """Readiness, with the state of each dependency."""

    status = fields.String(
        required=True,
        validate=validate.OneOf(["ok", "degraded"]),
        metadata={"description": "degraded while Redis is set up but does not answer"},
    )

    database = fields.String(required=True, validate=validate.OneOf(["ok", "unavailable"]))
    redis = fields.String(
        required=True,
        validate=validate.OneOf(["ok", "degraded", "off"]),
        metadata={
            "description": "degraded: REDIS_URL is set but Redis does not answer; rate limits "
            "are kept per process until it does. off: no REDIS_URL."
        },
    )


@bp.get("/healthz")
@bp.response(200, ProbeSchema)
def healthz():
    """Report that the process is up."""
    return {"status": "ok"}


@bp.get("/readyz")
@bp.response(200, ReadinessSchema)
@bp.alt_response(503, response="SERVICE_UNAVAILABLE")
def readyz():
    """Report each dependency: 200 while the database answers (Redis is optional), else 503."""
    state = service.readiness()
    if state["database"] != "ok":
        return problem_response(
            503,
            "The database is not reachable.",
            slug="unavailable",
            headers={"Retry-After": "5"},
            extensions={"database": state["database"], "redis": state["redis"]},
        )
    return state
