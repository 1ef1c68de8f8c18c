"""A patient's withdrawal episodes (patients only; counselors read them in patients/)."""

from server.auth.models import Role
from server.auth.policy import require_role, signed_in_user
from server.common.openapi import BEARER, LINK_HEADER, ApiBlueprint, problems
from server.common.pagination import with_links
from server.episodes import service
from server.episodes.schemas import (
    EpisodeEndSchema,
    EpisodeInputSchema,
    EpisodeListQuerySchema,
    EpisodePageSchema,
    EpisodePatchSchema,
    EpisodeSchema,
)

bp = ApiBlueprint(
    "episodes", __name__, url_prefix="/api/v1/episodes", description="Withdrawal episodes"
)
ONE_OPEN_DOC = "At most one episode is open at a time: while one is, this answers 409."


@bp.get("")
@require_role(Role.PATIENT)
@bp.doc(security=BEARER)
@bp.arguments(EpisodeListQuerySchema(), location="query", as_kwargs=True)
@bp.response(200, EpisodePageSchema, headers=LINK_HEADER)
@problems(bp, 401, 403)
def list_episodes(page=1, page_size=50):
    """List my withdrawal episodes, the most recently started first (50 a page)."""
    return with_links(service.list_page(signed_in_user(), page, page_size))


@bp.post("")
@require_role(Role.PATIENT)
@bp.doc(security=BEARER, description=ONE_OPEN_DOC)
@bp.arguments(EpisodeInputSchema())
@bp.response(201, EpisodeSchema)
@problems(bp, 400, 401, 403, 409, 413, 415)
def create_episode(data):
    """Start a withdrawal episode (409 while another is open)."""
    return service.create(signed_in_user(), data)


@bp.get("/<uuid:episode_id>")
@require_role(Role.PATIENT)
@bp.doc(security=BEARER)
@bp.response(200, EpisodeSchema)
@problems(bp, 401, 403, 404)
def get_episode(episode_id):
    """Get one of my withdrawal episodes."""
    return service.get(signed_in_user(), str(episode_id))


@bp.patch("/<uuid:episode_id>")
@require_role(Role.PATIENT)
@bp.doc(
    security=BEARER,
    description="Send only the fields to change (merge-patch style); null clears "
    "last_use_at or moud_started_on. The episode as it then stands must keep every rule "
    "of a new one (and of its end, if it ended).",
)
@bp.arguments(EpisodePatchSchema())
@bp.response(200, EpisodeSchema)
@problems(bp, 400, 401, 403, 404, 413, 415)
def correct_episode(data, episode_id):
    """Correct one of my withdrawal episodes."""
    return service.correct(signed_in_user(), str(episode_id), data)


@bp.post("/<uuid:episode_id>/end")
@require_role(Role.PATIENT)
@bp.doc(security=BEARER, description="An episode ends once: ending it again answers 409.")
@bp.arguments(EpisodeEndSchema(), required=False)
@bp.response(200, EpisodeSchema)
@problems(bp, 400, 401, 403, 404, 409, 413, 415)
def end_episode(data, episode_id):
    """End one of my withdrawal episodes (default: today in my time zone)."""
    return service.end(signed_in_user(), str(episode_id), data.get("ended_on"))
