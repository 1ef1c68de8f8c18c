"""Public help resources and the treatment locator."""

from flask_jwt_extended import current_user, verify_jwt_in_request

from server.common.openapi import ApiBlueprint, problems
from server.resources import service
from server.resources.schemas import (
    ResourceListSchema,
    ResourceQuerySchema,
    TreatmentQuerySchema,
    TreatmentSchema,
)

bp = ApiBlueprint(
    "resources", __name__, url_prefix="/api/v1/resources", description="Help resources"
)
OPTIONAL_BEARER = [{}, {"bearerAuth": []}]
DEFAULT_REGION = "US"


def _region(requested: str | None) -> str:
    """Use the asked-for region, else the signed-in person's, else the US."""
    if requested:
        return requested
    # A token is optional here; when one is sent it must be valid.
    verify_jwt_in_request(optional=True)
    return current_user.region if current_user else DEFAULT_REGION


@bp.get("")
@bp.doc(security=OPTIONAL_BEARER)
@bp.arguments(ResourceQuerySchema, location="query", as_kwargs=True)
@bp.response(200, ResourceListSchema)
@problems(bp, 401)
def list_resources(region=None, kind=None):
    """List crisis, treatment and harm-reduction resources for a region."""
    region = _region(region)
    kinds = (kind,) if kind else None
    return {"region": region, "items": service.list_resources(region=region, kinds=kinds)}


@bp.get("/treatment")
@bp.doc(security=OPTIONAL_BEARER)
@bp.arguments(TreatmentQuerySchema, location="query", as_kwargs=True)
@bp.response(200, TreatmentSchema)
@problems(bp, 401)
def find_treatment(postal_code=None, radius_miles=25, region=None):
    """Find treatment near a US ZIP code; never an error page for someone seeking help."""
    return service.find_treatment(
        region=_region(region), postal_code=postal_code, radius_miles=radius_miles
    )
