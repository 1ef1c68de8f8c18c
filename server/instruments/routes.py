"""Instrument endpoints: definitions, patients' SOWS responses, counselors' COWS observations."""

from server.auth.models import Role
from server.auth.policy import require_role, signed_in_user
from server.common.conditional import (
    answer_conditional_read,
    etag_of_body,
    request_preconditions,
)
from server.common.dates import parse_day
from server.common.openapi import (
    BEARER,
    ETAG_HEADER,
    IF_MATCH_PARAMETER,
    IF_NONE_MATCH_PARAMETER,
    LINK_HEADER,
    ApiBlueprint,
    conditional_read,
    not_modified_response,
    problems,
)
from server.common.pagination import with_links
from server.instruments import service
from server.instruments.definitions import INSTRUMENTS, PATIENT_INSTRUMENTS
from server.instruments.schemas import (
    InstrumentListSchema,
    InstrumentSchema,
    ListQuerySchema,
    ObservationInputSchema,
    ObservationPageSchema,
    ObservationSchema,
    ResponseInputSchema,
    ResponsePageSchema,
    ResponseSchema,
)

bp = ApiBlueprint(
    "instruments",
    __name__,
    url_prefix="/api/v1/instruments",
    description="Validated withdrawal scales and the patient's own responses",
)
observations_bp = ApiBlueprint(
    "observations",
    __name__,
    url_prefix="/api/v1/observations",
    description="Clinicians' observations about me",
)
counselor_bp = ApiBlueprint(
    "patient_instruments",
    __name__,
    url_prefix="/api/v1/patients",
    description="Counselor views and records of instruments",
)
CLINICIAN_ONLY = (
    "Only instruments the patient completes have responses: a clinician's instrument "
    "(cows-11) answers 404 here, as an unknown id does; counselors record it with "
    "POST /patients/{id}/observations/cows-11."
)
SIGNED_IN = (Role.PATIENT, Role.COUNSELOR)


def _instrument_id(ids: tuple[str, ...], description: str) -> list[dict]:
    """The documented `instrument_id` path parameter: the versioned ids it may be."""
    schema = {"type": "string", "enum": list(ids)}
    return [{"in": "path", "name": "instrument_id", "description": description, "schema": schema}]


ANY_INSTRUMENT = _instrument_id(
    tuple(INSTRUMENTS), "Versioned id of an instrument (404 if unknown)"
)
PATIENT_INSTRUMENT = _instrument_id(
    PATIENT_INSTRUMENTS, "Versioned id of an instrument the patient completes (404 otherwise)"
)


@bp.get("")
@require_role(*SIGNED_IN)
@etag_of_body
@bp.doc(security=BEARER, parameters=conditional_read())
@bp.response(200, InstrumentListSchema, headers=ETAG_HEADER)
@not_modified_response(bp)
@problems(bp, 400, 401, 412)
def list_instruments():
    """List the validated instruments Steady scores, with their items and sources."""
    return service.list_instruments()


@bp.get("/<instrument_id>", parameters=ANY_INSTRUMENT)
@require_role(*SIGNED_IN)
@etag_of_body
@bp.doc(security=BEARER, parameters=conditional_read())
@bp.response(200, InstrumentSchema, headers=ETAG_HEADER)
@not_modified_response(bp)
@problems(bp, 400, 401, 404, 412)
def get_instrument(instrument_id):
    """Get one instrument by its versioned id (e.g. sows-gossop-10)."""
    return service.describe(service.instrument_or_404(instrument_id))


@bp.get("/<instrument_id>/responses", parameters=PATIENT_INSTRUMENT)
@require_role(Role.PATIENT)
@bp.doc(security=BEARER, description=CLINICIAN_ONLY)
@bp.arguments(ListQuerySchema(), location="query", as_kwargs=True)
@bp.response(200, ResponsePageSchema, headers=LINK_HEADER)
@problems(bp, 401, 403, 404)
def list_responses(instrument_id, start=None, end=None, page=1, page_size=50):
    """List my responses to an instrument in date order (default: the last 90 days)."""
    return with_links(
        service.list_responses(signed_in_user(), instrument_id, start, end, page, page_size)
    )


@bp.get("/<instrument_id>/responses/<day:date>", parameters=PATIENT_INSTRUMENT)
@require_role(Role.PATIENT)
@bp.doc(security=BEARER, parameters=conditional_read(), description=CLINICIAN_ONLY)
@bp.response(200, ResponseSchema, headers=ETAG_HEADER)
@not_modified_response(bp)
@problems(bp, 400, 401, 403, 404, 412, 422)
def get_response(instrument_id, date):
    """Get my response to an instrument for a day (304 if If-None-Match has its ETag)."""
    preconditions = request_preconditions()
    row = service.get_response_or_404(signed_in_user(), instrument_id, parse_day(date))
    etag = service.response_etag(row)
    return answer_conditional_read(preconditions, etag) or (row, 200, {"ETag": etag})


@bp.put("/<instrument_id>/responses/<day:date>", parameters=PATIENT_INSTRUMENT)
@require_role(Role.PATIENT)
@bp.doc(
    security=BEARER,
    parameters=[IF_MATCH_PARAMETER, IF_NONE_MATCH_PARAMETER],
    description="Every item of the instrument, each with one of its values: a missing, "
    "unknown or invalid item is a 422 naming it (`items.<item_id>`), and nothing is stored. "
    "The day follows the check-ins' rules (not before 2000-01-01, not after today in my "
    "time zone); conditions and retries too. " + CLINICIAN_ONLY,
)
@bp.arguments(ResponseInputSchema())
@bp.response(200, ResponseSchema, headers=ETAG_HEADER, description="Replaced")
@bp.alt_response(
    201, schema=ResponseSchema, headers=ETAG_HEADER, success=True, description="Created"
)
@problems(bp, 400, 401, 403, 404, 412, 413, 415)
def put_response(data, instrument_id, date):
    """Create or replace my response to an instrument for a day (scored on the server)."""
    saved = service.save_response(
        patient=signed_in_user(),
        instrument_id=instrument_id,
        day=parse_day(date),
        items=data["items"],
        preconditions=request_preconditions(),
    )
    etag = service.response_etag(saved.row)
    return saved.row, 201 if saved.created else 200, {"ETag": etag}


@bp.delete("/<instrument_id>/responses/<day:date>", parameters=PATIENT_INSTRUMENT)
@require_role(Role.PATIENT)
@bp.doc(security=BEARER)
@bp.response(204)
@problems(bp, 401, 403, 404, 422)
def delete_response(instrument_id, date):
    """Delete my response to an instrument for a day."""
    service.delete_response(
        patient=signed_in_user(), instrument_id=instrument_id, day=parse_day(date)
    )


@observations_bp.get("")
@require_role(Role.PATIENT)
@observations_bp.doc(security=BEARER)
@observations_bp.arguments(ListQuerySchema(), location="query", as_kwargs=True)
@observations_bp.response(200, ObservationPageSchema, headers=LINK_HEADER)
@problems(observations_bp, 401, 403)
def list_my_observations(start=None, end=None, page=1, page_size=50):
    """List the clinicians' observations (COWS) about me, oldest first (default: 90 days)."""
    return with_links(service.list_observations(signed_in_user(), start, end, page, page_size))


@counselor_bp.post("/<uuid:patient_id>/observations/cows-11")
@require_role(Role.COUNSELOR)
@counselor_bp.doc(
    security=BEARER,
    description="Needs an active share that includes `assess` (404 otherwise). Every item "
    "with one of its values (422 naming each item that is not). The same observed_at and "
    "items again (a retry) answer 200 with the stored observation; the same observed_at "
    "with other items is a 409. Written to the patient's access log.",
)
@counselor_bp.arguments(ObservationInputSchema())
@counselor_bp.response(201, ObservationSchema, description="Recorded")
@counselor_bp.alt_response(
    200, schema=ObservationSchema, success=True, description="Already recorded (a retry)"
)
@problems(counselor_bp, 400, 401, 403, 404, 409, 413, 415)
def post_observation(data, patient_id):
    """Record a COWS observation of a sharing patient (scored on the server)."""
    recorded = service.record_observation(
        counselor=signed_in_user(),
        patient_id=str(patient_id),
        items=data["items"],
        observed_at=data["observed_at"],
    )
    return recorded.body, 201 if recorded.created else 200


@counselor_bp.get("/<uuid:patient_id>/observations")
@require_role(Role.COUNSELOR)
@counselor_bp.doc(security=BEARER, description="Needs a share that includes `assess`.")
@counselor_bp.arguments(ListQuerySchema(), location="query", as_kwargs=True)
@counselor_bp.response(200, ObservationPageSchema, headers=LINK_HEADER)
@problems(counselor_bp, 401, 403, 404)
def list_patient_observations(patient_id, start=None, end=None, page=1, page_size=50):
    """List the observations about a sharing patient, oldest first (default: 90 days)."""
    return with_links(
        service.observations_for_counselor(
            counselor=signed_in_user(),
            patient_id=str(patient_id),
            start=start,
            end=end,
            page=page,
            page_size=page_size,
        )
    )


@counselor_bp.get(
    "/<uuid:patient_id>/instruments/<instrument_id>/responses", parameters=PATIENT_INSTRUMENT
)
@require_role(Role.COUNSELOR)
@counselor_bp.doc(
    security=BEARER, description="Needs a share that includes `checkins`. " + CLINICIAN_ONLY
)
@counselor_bp.arguments(ListQuerySchema(), location="query", as_kwargs=True)
@counselor_bp.response(200, ResponsePageSchema, headers=LINK_HEADER)
@problems(counselor_bp, 401, 403, 404)
def list_patient_responses(patient_id, instrument_id, start=None, end=None, page=1, page_size=50):
    """List a sharing patient's responses to an instrument in date order (default: 90 days)."""
    return with_links(
        service.responses_for_counselor(
            counselor=signed_in_user(),
            patient_id=str(patient_id),
            instrument_id=instrument_id,
            start=start,
            end=end,
            page=page,
            page_size=page_size,
        )
    )
