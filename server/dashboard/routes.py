"""The counselor dashboard's pages: thin views over the API's own use cases (see reads.py).

Every page works without JavaScript; htmx (vendored, static/vendor) only spares a reload
when an alert is acknowledged. Every post carries this sign-in's CSRF token.
"""

import logging
import traceback

from flask import (
    Blueprint,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_limiter import RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, NotFound

from server.common.settings import settings
from server.dashboard import reads
from server.dashboard.chart import build_chart
from server.dashboard.forms import LoginForm, RangeForm
from server.dashboard.sessions import counselor_required, safe_next, sign_in, sign_out, signed_in
from server.dashboard.words import TEMPLATE_HELPERS, day_label
from server.errors import RETRY_AFTER_KEY, ApiError, Forbidden, Unauthorized, ValidationFailed
from server.exports.routes import attachment_response
from server.extensions import csrf, db, limiter

bp = Blueprint(
    "dashboard",
    __name__,
    url_prefix="/dashboard",
    template_folder="templates",
    static_folder="static",
)
log = logging.getLogger(__name__)
PAGE_SIZE = 50
MAX_PAGE = 100_000
EXPORT_FORMATS = ("csv", "pdf", "fhir")
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
ERROR_PAGES = {
    400: ("Something was wrong with that request", "Go back and try again."),
    403: ("You cannot open this page", "Your account does not have access to it."),
    404: (
        "Page not found",
        "There is nothing here for you. If you followed a link to a patient, their "
        "share may have ended or been revoked.",
    ),
    422: ("Check what you entered", "Some of what was sent could not be used."),
    429: ("Too many attempts", "Wait a minute, then try again."),
    500: (
        "Something went wrong",
        "This is a problem on our side. Please try again; if it keeps happening, "
        "contact support and quote the reference below.",
    ),
    503: (
        "The dashboard is unavailable for a moment",
        "Please try again in a few seconds.",
    ),
}
FORM_EXPIRED = (
    "This form has expired",
    "Forms stop working when you sign out or your sign-in ends. Go back, reload the "
    "page and try again.",
)
COUNSELORS_ONLY = (
    "The dashboard is for counselors",
    "Steady's web dashboard is for counselors reviewing the logs patients share with "
    "them. Patients use the Steady app.",
)


@bp.before_request
def check_csrf_token():
    """Refuse a post without this browser's CSRF token (CSRFProtect skips safe methods)."""
    csrf.protect()


@bp.context_processor
def page_context() -> dict:
    """Who is signed in (as already checked) and the wording helpers."""
    return {"user": g.get("dashboard_user"), **TEMPLATE_HELPERS}


# --- Signing in and out --------------------------------------------------------------------


@bp.get("/login")
def login():
    """The sign-in form (a signed-in counselor goes straight to the caseload)."""
    if signed_in() is not None:
        return redirect(url_for(".caseload"), 303)
    return render_template(
        "dashboard/login.html",
        form=LoginForm(formdata=None),
        next=safe_next(request.args.get("next")),
    )


@bp.post("/login")
# The same allowance per address as the API's POST /auth/login (one budget for both).
@limiter.shared_limit(lambda: settings().limits["LOGIN_LIMIT_PER_IP"], scope="login")
def login_submit():
    """Check the email and password; open a stored session named in the cookie."""
    form = LoginForm()
    target = safe_next(request.form.get("next"))
    if not form.validate():
        return render_template("dashboard/login.html", form=form, next=target), 422
    try:
        sign_in(email=form.email.data, password=form.password.data)
    except Unauthorized as error:
        form.form_errors.append(error.detail)
        return render_template("dashboard/login.html", form=form, next=target), 401
    except Forbidden:
        return error_page(403, *COUNSELORS_ONLY)
    return redirect(target or url_for(".caseload"), 303)


@bp.post("/logout")
def logout():
    """End the stored session; the old cookie is refused from now on."""
    sign_out()
    flash("You have signed out.", "info")
    return redirect(url_for(".login"), 303)


# --- Pages --------------------------------------------------------------------------------


@bp.get("/")
def home():
    """The caseload lives at /dashboard."""
    return redirect(url_for(".caseload"), 308)


@bp.get("")
@counselor_required
def caseload():
    """Every actively sharing patient, most urgent first, a page at a time."""
    page = _page_number()
    listing, open_alerts = reads.caseload(g.dashboard_user, page, PAGE_SIZE)
    pages = max(1, listing["total_pages"])
    if page > pages:
        raise NotFound()
    return render_template(
        "dashboard/caseload.html",
        rows=listing["items"],
        open_alerts=open_alerts,
        total=listing["total_items"],
        page=page,
        pages=pages,
        first_row=(page - 1) * PAGE_SIZE + 1,
    )


@bp.get("/patients/<uuid:patient_id>")
@counselor_required
def patient(patient_id):
    """A sharing patient's days in a range, as far as the share allows (404 without one)."""
    counselor = g.dashboard_user
    share, person = reads.patient_share(counselor, str(patient_id))
    form = RangeForm(formdata=request.args)
    valid = form.validate()
    if valid:
        try:
            start, end = reads.date_range(person, form.start.data, form.end.data)
        except ValidationFailed as error:
            _field_errors(form, error)
            valid = False
    if not valid:
        page = render_template("dashboard/patient.html", form=form, share=share, patient=person)
        return page, 422
    view = reads.patient_view(counselor, share, person, start, end)
    form.start.data, form.end.data = start, end
    return render_template(
        "dashboard/patient.html",
        form=form,
        share=share,
        patient=person,
        view=view,
        chart=build_chart(view.trends["days"]) if view.trends else None,
        export_formats=EXPORT_FORMATS,
    )


def _export_key() -> str:
    """Exports are limited per person asking, like the API's (EXPORT_LIMIT_PER_USER)."""
    user_id = session.get("uid")
    return f"export:{user_id}" if isinstance(user_id, str) else get_remote_address()


@bp.post("/patients/<uuid:patient_id>/export")
@limiter.limit(lambda: settings().limits["EXPORT_LIMIT_PER_USER"], key_func=_export_key)
@counselor_required
def export(patient_id):
    """Download a sharing patient's log (the share must include export)."""
    fmt = request.form.get("format")
    if fmt not in EXPORT_FORMATS:
        raise ValidationFailed(
            "Choose CSV, PDF or FHIR.", errors={"format": ["Must be csv, pdf or fhir."]}
        )
    form = RangeForm(formdata=request.form)
    if not form.validate():
        raise ValidationFailed(
            "The dates are not valid.",
            errors={field.name: field.errors for field in form if field.errors},
        )
    download = reads.export(g.dashboard_user, str(patient_id), form.start.data, form.end.data, fmt)
    return attachment_response(download)


@bp.get("/alerts")
@counselor_required
def alerts():
    """Open alerts first, each with an Acknowledge button; acknowledged ones below."""
    still_open, done = reads.alerts(g.dashboard_user)
    return render_template("dashboard/alerts.html", open_alerts=still_open, done=done)


@bp.post("/alerts/<uuid:alert_id>/acknowledge")
@counselor_required
def acknowledge(alert_id):
    """Mark an alert as seen; htmx gets the lists back, a plain form a redirect to them."""
    alert = reads.acknowledge(g.dashboard_user, str(alert_id))
    message = (
        f"Alert for {alert['patient'].display_name} on {day_label(alert['checkin_date'])} "
        "acknowledged."
    )
    if request.headers.get("HX-Request"):
        still_open, done = reads.alerts(g.dashboard_user)
        response = make_response(
            render_template(
                "dashboard/_alert_lists.html",
                open_alerts=still_open,
                done=done,
                message=message,
            )
        )
    else:
        flash(message, "success")
        response = redirect(url_for(".alerts"), 303)
    response.vary.add("HX-Request")
    return response


@bp.route("/<path:_unknown>", methods=ALL_METHODS)
def unknown_page(_unknown):
    """Anything else under /dashboard is the dashboard's own 404 page."""
    raise NotFound()


def _page_number() -> int:
    """The ?page= of a list (1 by default); anything but a page number is a 404."""
    value = request.args.get("page", "1")
    if not value.isdigit() or not 1 <= int(value) <= MAX_PAGE:
        raise NotFound()
    return int(value)


def _field_errors(form: RangeForm, error: ValidationFailed) -> None:
    """Put the range rules' messages (keyed "from" and "to") on the form's fields."""
    for name, messages in (error.errors or {}).items():
        field = form.end if name == "to" else form.start
        field.errors = [*field.errors, *messages]


# --- Error pages --------------------------------------------------------------------------


def error_page(status: int, title: str | None = None, message: str | None = None, **extra):
    """The dashboard's own page for an error: what happened and what to do, no internals."""
    default_title, default_message = ERROR_PAGES.get(status, ERROR_PAGES[500])
    response = make_response(
        render_template(
            "dashboard/error.html",
            status=status,
            title=title or default_title,
            message=message or default_message,
            request_id=g.get("request_id"),
            **extra,
        ),
        status,
    )
    if request.headers.get("HX-Request"):
        # htmx swaps the page's main content for this one's (see htmx-config in base.html).
        response.headers.update(
            {"HX-Retarget": "#main", "HX-Reswap": "outerHTML", "HX-Reselect": "#main"}
        )
    return response


@bp.errorhandler(Exception)
def handle_error(error: Exception):
    """Every failure inside the dashboard gets an HTML page in its style, never a trace."""
    if isinstance(error, CSRFError):
        return error_page(400, *FORM_EXPIRED)
    if isinstance(error, ValidationFailed):
        details = [message for messages in (error.errors or {}).values() for message in messages]
        return error_page(422, message=error.detail, details=details)
    if isinstance(error, ApiError):
        response = error_page(error.status, message=_own_message(error))
        return _with_retry_after(response, error.headers.get("Retry-After"))
    if isinstance(error, HTTPException):
        if error.code is None or error.code < 400:
            return error
        message = None
        if error.code == 429 and not isinstance(error, RateLimitExceeded):
            message = error.description  # the account lock's own words
        retry_after = dict(error.get_headers()).get("Retry-After")
        return _with_retry_after(error_page(error.code, message=message), retry_after)
    db.session.rollback()
    if isinstance(error, DBAPIError):
        log.error("database error (%s)", type(error.orig).__name__)
        return _with_retry_after(error_page(503), "5")
    # Frames only: exception messages can carry request values (health data).
    frames = "".join(traceback.format_tb(error.__traceback__))
    log.error("unhandled %s\n%s", type(error).__name__, frames)
    return error_page(500)


def _own_message(error: ApiError) -> str | None:
    """A service's own words where they help a counselor; the page's default otherwise."""
    return error.detail if error.status in (409, 429, 503) else None


def _with_retry_after(response, seconds):
    """Keep a Retry-After (the app keeps it on 429 and 503 only)."""
    if seconds is not None:
        response.headers["Retry-After"] = str(seconds)
        setattr(g, RETRY_AFTER_KEY, str(seconds))
    return response
