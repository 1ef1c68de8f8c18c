"""Public help resources and the treatment locator."""

from flask_jwt_extended import (
    current_user,
    get_current_user,
    get_jwt_identity,
    verify_jwt_in_request,
)

from server.auth.models import Role
from server.auth.policy import require_role, signed_in_user
from server.common.openapi import BEARER, ApiBlueprint, problems
from server.common.settings import settings
from server.common.validation import DEFAULT_REGION
from server.extensions import limiter
from server.resources import service
from server.resources.schemas import (
    RegionListSchema,
    ResourceCreateSchema,
    ResourceListSchema,
    ResourceQuerySchema,
    ResourceSchema,
    TreatmentQuerySchema,
    TreatmentSchema,
)
from server.sharing import policy

bp = ApiBlueprint(
    "resources", __name__, url_prefix="/api/v1/resources", description="Help resources"
)
OPTIONAL_BEARER = [{}, {"bearerAuth": []}]


def _region(requested: str | None) -> str:
    """Use the asked-for region, else the signed-in person's, else the US."""
    # A token is optional here; when one is sent it must be valid, even with ?region=.
    verify_jwt_in_request(optional=True)
    if requested:
        return requested
    return current_user.region if current_user else DEFAULT_REGION


@bp.get("")
@bp.doc(security=OPTIONAL_BEARER)
@bp.arguments(ResourceQuerySchema(), location="query", as_kwargs=True)
@bp.response(200, ResourceListSchema)
@problems(bp, 401)
def list_resources(region=None, kind=None):
    """List crisis, treatment and harm-reduction resources for a region."""
    region = _region(region)
    kinds = (kind,) if kind else None
    counselor_ids = policy.resource_owner_ids(get_current_user())
    items = service.list_resources(region=region, kinds=kinds, counselor_ids=counselor_ids)
    return {"region": region, "items": items}


@bp.get("/regions")
@bp.response(200, RegionListSchema)
def list_regions():
    """List every ISO 3166-1 region: curated or not, and where its emergency entry is from."""
    return {"default": DEFAULT_REGION, "items": service.region_coverage()}


@bp.post("")
@require_role(Role.COUNSELOR)
@limiter.limit(
    lambda: settings().limits["RESOURCE_LIMIT_PER_COUNSELOR"],
    key_func=lambda: f"resource:{get_jwt_identity()}",
)
@bp.doc(
    security=BEARER,
    description="Limited per counselor (RESOURCE_LIMIT_PER_COUNSELOR, default 50 a day).",
)
@bp.arguments(ResourceCreateSchema())
@bp.response(201, ResourceSchema)
@problems(bp, 401, 403, 413, 415, 429)
def add_resource(data):
    """Add my clinic's line or another resource for the patients who share with me."""
    return service.add_own(counselor=signed_in_user(), data=data)


@bp.delete("/<uuid:resource_id>")
@require_role(Role.COUNSELOR)
@bp.doc(security=BEARER)
@bp.response(204)
@problems(bp, 401, 403, 404)
def remove_resource(resource_id):
    """Remove one of my own resources."""
    service.remove_own(counselor=signed_in_user(), resource_id=str(resource_id))


@bp.get("/treatment")
@limiter.limit(lambda: settings().limits["LOCATOR_LIMIT_PER_IP"])
@bp.doc(
    security=OPTIONAL_BEARER,
    description="Limited per IP address (LOCATOR_LIMIT_PER_IP, default 60 a minute). The "
    "radius is rounded up to 5, 10, 25, 50, 100, 250 or 500 miles before it reaches the "
    "cache and the provider; radius_miles in the answer says which. After "
    "TREATMENT_LOCATOR_BREAKER_FAILURES (5) provider failures in a row the fallback is "
    "answered at once, without asking the provider, for TREATMENT_LOCATOR_BREAKER_SECONDS "
    "(60).",
)
@bp.arguments(TreatmentQuerySchema(), location="query", as_kwargs=True)
@bp.response(200, TreatmentSchema)
@problems(bp, 401, 429)
def find_treatment(postal_code=None, radius_miles=25, region=None):
    """Find treatment near a US ZIP code; never an error page for someone seeking help."""
    return service.find_treatment(
        region=_region(region), postal_code=postal_code, radius_miles=radius_miles
    )
