"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against a live server.

One browser for the whole session (pytest-playwright), a fresh context (cookie jar) per
test, and a server thread on a free port serving an app on the suite's test database.
Every page is checked with axe-core (WCAG 2.2 A and AA, and best practice) and
photographed at 1280x800 into screenshots/ (git ignores it). Skipped only when Chromium is
missing outside CI; in CI (CI set) a missing browser fails the run.
"""

import csv
import io
import os
import re
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server

from tests.conftest import _empty_all_tables, make_test_app
from tests.factories import MODERATE_SCORES, PASSWORD, Factory

# Assertions wait as long as page actions: a busy CI machine is slow, never wrong.
expect.set_options(timeout=10_000)

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    },
    # Experimental table rules, off by default: patient names must be row headers.
    "rules": {"td-has-header": {"enabled": True}, "table-fake-caption": {"enabled": True}},
    "resultTypes": ["violations"],
}
TODAY = date.today()

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"),
    reason="no Chromium at /usr/bin/chromium (apt-get install chromium); CI never skips",
)


@pytest.fixture(scope="session")
def base_url():
    """Pages name the live server themselves (its port is known only once it runs)."""
    return None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, never a downloaded one; no sandbox when running as root."""
    args = ["--disable-dev-shm-usage"] + (["--no-sandbox"] if os.geteuid() == 0 else [])
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": args}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": VIEWPORT}


@pytest.fixture(scope="module")
def live_app(migrated):
    app = make_test_app(migrated)
    yield app
    _empty_all_tables(app)


@pytest.fixture(scope="module")
def live_server(live_app):
    """The app served by a real HTTP server (threads, like gunicorn's) on a free port."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def world(live_app):
    """A counselor with three sharing patients, built through the API like the phone does."""
    factory = Factory(live_app, live_app.test_client())
    counselor = factory.counselor(display_name="Dr Sam Okafor")
    alex = factory.patient(display_name="Alex Rivera")
    blair = factory.patient(display_name="Blair Chen")
    casey = factory.patient(display_name="Casey Morgan")
    # Shares first: alerts belong to the share that was running when a day was logged.
    factory.share(alex, counselor, include_notes=True)
    factory.share(blair, counselor, scope=("checkins", "trends"))
    factory.share(casey, counselor)
    calm = [dict(MODERATE_SCORES)] * 10
    factory.log(alex, TODAY - timedelta(days=4), calm)
    factory.checkin(alex, TODAY - timedelta(days=3), nausea=9, aches=8, note="Rough night")
    factory.checkin(alex, TODAY - timedelta(days=2), **MODERATE_SCORES, used_opioids=True)
    factory.checkin(alex, TODAY - timedelta(days=1), nausea=9, anxiety=9, insomnia=9, aches=7)
    factory.checkin(alex, TODAY, nausea=10, crisis=True, note="Scared tonight")
    factory.log(blair, TODAY, [dict(MODERATE_SCORES)] * 5)
    factory.log(casey, TODAY, [dict(MODERATE_SCORES)] * 3)
    SCREENSHOTS.mkdir(exist_ok=True)
    return {
        "factory": factory,
        "counselor": counselor,
        "alex": alex,
        "blair": blair,
        "casey": casey,
    }


@pytest.fixture
def page(page: Page, live_server):
    """A fresh context's page, failing fast, that records what the console complained of."""
    page.set_default_timeout(10_000)
    page.problems = []
    page.on("console", lambda message: _complaint(page, message))
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    page.base = live_server
    yield page
    # A CSP refusal (an inline style, an eval in htmx) shows up here.
    assert page.problems == []


def _complaint(page: Page, message) -> None:
    """Keep console errors, except the note of each 4xx page a test asks for on purpose."""
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        page.problems.append(message.text)


def check_page(page: Page, name: str) -> None:
    """No serious or critical axe violation, and a 1280x800 screenshot of what was seen."""
    results = Axe().run(page, options=AXE_OPTIONS)
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, results.generate_report()
    assert results.violations_count == 0, results.generate_report()
    page.screenshot(path=SCREENSHOTS / f"{name}.png")


def sign_in(page: Page, person, password: str = PASSWORD) -> None:
    page.goto(f"{page.base}/dashboard/login")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_sign_in_see_the_caseload_open_a_patient_chart_and_days(page, world):
    counselor = world["counselor"]
    page.goto(f"{page.base}/dashboard")
    expect(page).to_have_url(re.compile(r"/dashboard/login\?next=/dashboard$"))
    check_page(page, "login")

    sign_in(page, counselor, password="not the password")
    expect(page.get_by_role("alert")).to_contain_text("Email or password is incorrect.")
    check_page(page, "login-error")

    sign_in(page, counselor)
    expect(page.get_by_role("heading", level=1)).to_have_text("Caseload")
    rows = page.locator("table.caseload tbody tr")
    expect(rows).to_have_count(3)
    # Most urgent first: Alex's latest day is a crisis, said in words.
    expect(rows.nth(0).get_by_role("rowheader")).to_have_text("Alex Rivera")
    expect(rows.nth(0)).to_contain_text("Crisis")
    expect(rows.nth(0)).to_contain_text("4 open")
    expect(page.get_by_role("rowheader", name="Blair Chen")).to_be_visible()
    check_page(page, "caseload")

    page.get_by_role("link", name="Alex Rivera").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alex Rivera")
    expect(
        page.get_by_text("can see every view of their data in their access log")
    ).to_be_visible()
    chart = page.get_by_role("img", name=re.compile("Symptom scores of Alex Rivera"))
    expect(chart).to_be_visible()
    expect(chart.locator("polyline").first).to_be_attached()
    days = page.locator("table.days tbody tr")
    expect(days).to_have_count(14)
    newest = days.nth(0)
    expect(newest.get_by_role("rowheader")).to_contain_text(str(TODAY.day))
    expect(newest).to_contain_text("Crisis")
    expect(newest).to_contain_text("Scared tonight")  # this share includes notes
    expect(days.nth(2)).to_contain_text("Used opioids")
    check_page(page, "patient")
    page.screenshot(path=SCREENSHOTS / "patient-full.png", full_page=True)

    page.get_by_label("From", exact=True).fill((TODAY - timedelta(days=6)).isoformat())
    page.get_by_role("button", name="Show these dates").click()
    expect(days).to_have_count(7)


def test_a_share_without_notes_or_status_shows_neither(page, world):
    sign_in(page, world["counselor"])
    page.get_by_role("link", name="Blair Chen").click()
    expect(page.locator("table.days tbody tr")).to_have_count(5)
    expect(page.locator("table.days thead")).not_to_contain_text("Note")
    expect(page.locator("table.days thead")).not_to_contain_text("Level")
    expect(page.get_by_role("button", name="Download CSV")).to_have_count(0)


def test_acknowledge_an_alert_in_place(page, world):
    sign_in(page, world["counselor"])
    page.get_by_role("link", name="Alerts", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alerts")
    check_page(page, "alerts")
    open_heading = page.get_by_role("heading", name=re.compile(r"^Open \(\d+\)$"))
    before = int(re.search(r"\d+", open_heading.inner_text()).group())
    page.get_by_role("button", name=re.compile("^Acknowledge")).first.click()
    status = page.get_by_role("status")
    expect(status).to_contain_text("acknowledged")
    expect(status).to_be_focused()  # keyboard and screen-reader users hear what happened
    expect(open_heading).to_have_text(f"Open ({before - 1})")
    expect(page).to_have_url(re.compile(r"/dashboard/alerts$"))  # swapped in place
    check_page(page, "alerts-acknowledged")


def test_export_a_csv(page, world):
    sign_in(page, world["counselor"])
    page.goto(f"{page.base}/dashboard/patients/{world['alex'].id}")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    text = Path(download.path()).read_text()
    rows = [row for row in csv.reader(io.StringIO(text)) if row]
    assert any("Scared tonight" in row for row in rows), "notes are shared, so exported"
    client = world["factory"].client
    log = client.get("/api/v1/me/access-log", headers=world["alex"].headers).json["items"]
    assert "export" in [event["action"] for event in log]


def test_a_revoked_share_is_a_404_on_the_next_load(page, world):
    casey, factory = world["casey"], world["factory"]
    sign_in(page, world["counselor"])
    page.get_by_role("link", name="Casey Morgan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Casey Morgan")
    shares = factory.client.get("/api/v1/shares", headers=casey.headers).json["items"]
    (share,) = [share for share in shares if share["status"] == "active"]
    response = factory.client.delete(f"/api/v1/shares/{share['id']}", headers=casey.headers)
    assert response.status_code == 204
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    check_page(page, "not-found")
    page.goto(f"{page.base}/dashboard")
    expect(page.get_by_role("rowheader", name="Casey Morgan")).to_have_count(0)


def test_sign_out_ends_the_session_and_the_old_cookie_is_refused(page, world, browser):
    sign_in(page, world["counselor"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Caseload")
    cookies = page.context.cookies()
    assert any(c["name"] == "steady_dashboard" and c["httpOnly"] for c in cookies)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_contain_text("You have signed out.")
    replay = browser.new_context(viewport=VIEWPORT)
    try:
        replay.add_cookies(cookies)
        other = replay.new_page()
        other.goto(f"{page.base}/dashboard")
        expect(other).to_have_url(re.compile(r"/dashboard/login"))
        expect(other.get_by_role("heading", level=1)).to_have_text("Sign in")
    finally:
        replay.close()


def test_csrf_and_security_headers(page, world):
    response = page.goto(f"{page.base}/dashboard/login")
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response.headers["cache-control"] == "no-store"
    sign_in(page, world["counselor"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Caseload")
    # The browser's own cookie, but no token: refused, and nothing changes.
    forged = page.request.post(f"{page.base}/dashboard/logout", form={})
    assert forged.status == 400
    assert "This form has expired" in forged.text()
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Caseload")


def test_a_patient_is_told_the_dashboard_is_for_counselors(page, world):
    sign_in(page, world["blair"])
    expect(page.get_by_role("heading", level=1)).to_have_text("The dashboard is for counselors")
    check_page(page, "for-counselors-only")
    page.goto(f"{page.base}/dashboard")
    expect(page).to_have_url(re.compile(r"/dashboard/login"))


def tab_to(page: Page, name: str, limit: int = 60) -> None:
    """Press Tab until the focused element's text or label starts with `name`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement; return (e.labels && e.labels[0] ?"
            " e.labels[0].textContent : e.textContent || '').trim(); }"
        )
        if focused.startswith(name):
            return
    raise AssertionError(f"Tab never reached {name!r}")


def test_the_whole_flow_with_the_keyboard_alone(page, world):
    page.goto(f"{page.base}/dashboard/login")
    tab_to(page, "Skip to main content")
    tab_to(page, "Email")
    page.keyboard.type(world["counselor"].email)
    tab_to(page, "Password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Caseload")
    tab_to(page, "Alex Rivera")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Alex Rivera")
    tab_to(page, "Alerts")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Alerts")
    tab_to(page, "Acknowledge")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("acknowledged")
    tab_to(page, "Sign out")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


def test_every_page_works_without_javascript(world, browser, live_server):
    context = browser.new_context(viewport=VIEWPORT, java_script_enabled=False)
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.base = live_server
        sign_in(page, world["counselor"])
        expect(page.get_by_role("heading", level=1)).to_have_text("Caseload")
        page.get_by_role("link", name="Alex Rivera").click()
        expect(page.locator("table.days tbody tr").first).to_be_visible()
        page.get_by_role("link", name="Alerts", exact=True).click()
        page.get_by_role("button", name=re.compile("^Acknowledge")).first.click()
        expect(page).to_have_url(re.compile(r"/dashboard/alerts$"))
        expect(page.get_by_role("status")).to_contain_text("acknowledged")
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    finally:
        context.close()
