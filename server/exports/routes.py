"""Downloads for appointments: a patient's own log, or a sharing patient's for a counselor."""

from flask import Response
from flask_jwt_extended import get_jwt_identity

from server.auth.models import Role
from server.auth.policy import require_role, signed_in_user
from server.common.openapi import BEARER, ApiBlueprint, problems
from server.common.settings import settings
from server.exports import service
from server.exports.schemas import ExportQuerySchema
from server.extensions import limiter

bp = ApiBlueprint("exports", __name__, url_prefix="/api/v1", description="Exports")

_BINARY = {"schema": {"type": "string", "format": "binary"}}
EXPORT_RESPONSES = {
    "200": {
        "description": "The export as a download: CSV (one row per logged day), a PDF "
        "report, or a FHIR R4 collection Bundle. Each states its range, when it was "
        "produced and that the data is self-reported. One export per person at a "
        "time: another while one is still being sent gets 429 with Retry-After; 503 with "
        "Retry-After when this server is already rendering its maximum of PDFs.",
        "headers": {
            "Content-Disposition": {
                "description": 'attachment; filename="steady-<from>-<to>.<csv|pdf|json>"',
                "required": True,
                "schema": {"type": "string"},
            }
        },
        "content": {
            "text/csv": _BINARY,
            "application/pdf": _BINARY,
            "application/fhir+json": {
                "schema": {"type": "object", "description": "FHIR R4 Bundle (collection)"}
            },
        },
    }
}


# Exports are the most expensive requests (a long PDF takes seconds): cap them per person.
export_limit = limiter.limit(
    lambda: settings().limits["EXPORT_LIMIT_PER_USER"],
    key_func=lambda: f"export:{get_jwt_identity()}",
)


def attachment_response(export: service.Export) -> Response:
    """Serve an export as an uncacheable attachment, sent in chunks.

    The body is handed over as is (no request context around it): the server closes it
    once sent or when the client goes away, and that ends the person's export lease.
    """
    response = Response(export.body, content_type=export.media_type)
    if export.length is not None:
        response.content_length = export.length
    response.headers["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/export")
@require_role(Role.PATIENT)
@export_limit
@bp.doc(security=BEARER, responses=EXPORT_RESPONSES)
@bp.arguments(ExportQuerySchema(), location="query", as_kwargs=True)
@problems(bp, 401, 403, 422, 429, 503)
def get_export(start=None, end=None, format="csv"):  # noqa: A002 (query parameter name)
    """Download my log as CSV (default), PDF or FHIR; by default the last 30 days."""
    return attachment_response(service.patient_export(signed_in_user(), start, end, format))


@bp.get("/patients/<uuid:patient_id>/export")
@require_role(Role.COUNSELOR)
@export_limit
@bp.doc(security=BEARER, responses=EXPORT_RESPONSES)
@bp.arguments(ExportQuerySchema(), location="query", as_kwargs=True)
@problems(bp, 401, 403, 404, 422, 429, 503)
def get_patient_export(patient_id, start=None, end=None, format="csv"):  # noqa: A002
    """Download a sharing patient's log (share must include export; notes only if shared)."""
    return attachment_response(
        service.counselor_export(
            counselor=signed_in_user(),
            patient_id=str(patient_id),
            start=start,
            end=end,
            fmt=format,
        )
    )
