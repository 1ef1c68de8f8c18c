"""``/api/v1/docs``: Swagger UI served from this app, with no CDN and no inline script."""

from flask import Blueprint, current_app, render_template, url_for

SWAGGER_UI_VERSION = "5.35.0"  # static/swagger-ui/README.md says where it came from

bp = Blueprint(
    "apidocs",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


@bp.get("")
def docs_page():
    """The docs page; steady-docs.js starts Swagger UI on the served spec."""
    return render_template(
        "apidocs/index.html",
        title=current_app.config["API_TITLE"],
        spec_url=url_for("api-docs.openapi_json"),
        version=SWAGGER_UI_VERSION,
    )
