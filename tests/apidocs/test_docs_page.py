"""/api/v1/docs works offline: every asset from this app, no inline script, a strict CSP."""

import hashlib
import os
import re
import shutil
import subprocess
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from server.apidocs.routes import SWAGGER_UI_VERSION

DOCS = "/api/v1/docs"
VENDORED = Path(__file__).parents[2] / "server" / "apidocs" / "static" / "swagger-ui"
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


class PageAssets(HTMLParser):
    """Collect what a page loads, and any script or style written into the page itself."""

    def __init__(self):
        super().__init__()
        self.assets: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            self._in_script = True
            if attributes.get("src"):
                self.assets.append(attributes["src"])
            else:
                self.inline.append("<script> without src")
        elif tag == "link" and attributes.get("href"):
            self.assets.append(attributes["href"])
        elif tag in ("img", "iframe") and attributes.get("src"):
            self.assets.append(attributes["src"])
        if tag == "style":
            self.inline.append("<style>")
        if "style" in attributes or any(name.startswith("on") for name in attributes):
            self.inline.append(f"inline attribute on <{tag}>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline.append(f"script text {data.strip()[:40]!r}")


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        if part.strip():
            name, *values = part.split()
            parsed[name] = values
    return parsed


def parse_page(client) -> tuple[object, PageAssets]:
    response = client.get(DOCS)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = PageAssets()
    page.feed(response.get_data(as_text=True))
    return response, page


def test_every_asset_of_the_docs_page_is_served_by_the_app(client):
    _response, page = parse_page(client)
    assert page.inline == []
    assert len(page.assets) >= 3
    for asset in page.assets:
        parts = urlsplit(asset)
        assert not parts.scheme and not parts.netloc, f"{asset} is off-site"
        served = client.get(asset)
        assert served.status_code == 200, asset
        suffix = Path(parts.path).suffix
        assert served.mimetype == CONTENT_TYPES[suffix], asset
        assert len(served.get_data()) > 0


def test_the_initialiser_is_a_file_and_the_spec_it_names_is_served(client):
    _response, page = parse_page(client)
    scripts = [a for a in page.assets if a.endswith(".js")]
    # Swagger UI first, then Steady's initialiser that starts it.
    assert scripts[0].endswith("/swagger-ui-bundle.js")
    initialiser = client.get(scripts[-1]).get_data(as_text=True)
    assert "SwaggerUIBundle(" in initialiser and "dataset.specUrl" in initialiser
    assert "validatorUrl: null" in initialiser  # nothing is sent to a public validator
    html = client.get(DOCS).get_data(as_text=True)
    spec_url = re.search(r'data-spec-url="([^"]+)"', html).group(1)
    assert spec_url == "/api/v1/openapi.json"
    assert client.get(spec_url).json["info"]["title"] == "Steady API"


def test_the_docs_policy_allows_scripts_from_this_origin_only(client):
    for path in (DOCS, f"{DOCS}/static/steady-docs.js"):
        policy = directives(client.get(path).headers["Content-Security-Policy"])
        assert policy["script-src"] == ["'self'"]
        assert policy["default-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]
        every_source = [value for values in policy.values() for value in values]
        assert not any("unsafe" in value for value in every_source)
        assert not any(
            value.startswith(("http:", "https:")) or "." in value for value in every_source
        )


def test_the_static_route_serves_nothing_outside_its_folder(client):
    for path in (
        f"{DOCS}/static/../routes.py",
        f"{DOCS}/static/%2e%2e/routes.py",
        f"{DOCS}/static/x.js",
    ):
        response = client.get(path)
        assert response.status_code == 404
        assert response.content_type == "application/problem+json"


def test_the_vendored_files_are_the_pinned_release_with_its_licence():
    sums = (VENDORED / "SHA256SUMS").read_text().splitlines()
    listed = {}
    for line in sums:
        digest, name = line.split()
        listed[name] = digest
        assert hashlib.sha256((VENDORED / name).read_bytes()).hexdigest() == digest, name
    kept = {path.name for path in VENDORED.iterdir()} - {"SHA256SUMS", "README.md"}
    assert kept == set(listed)
    assert {"LICENSE", "NOTICE", "swagger-ui-bundle.js.LICENSE.txt"} <= kept
    assert "Apache License" in (VENDORED / "LICENSE").read_text()
    assert f"swagger-ui-dist {SWAGGER_UI_VERSION}" in (VENDORED / "README.md").read_text()
    assert f'"{SWAGGER_UI_VERSION}"' in (VENDORED / "swagger-ui-bundle.js").read_text()


BROWSER = shutil.which("chromium-headless-shell") or shutil.which("chromium")


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.mark.skipif(BROWSER is None, reason="no headless Chromium on this machine")
def test_a_browser_renders_the_operations_under_the_policy(live_server, tmp_path):
    command = [
        BROWSER,
        "--headless",
        "--disable-gpu",
        "--enable-logging=stderr",
        "--v=0",
        f"--user-data-dir={tmp_path}",
        "--virtual-time-budget=10000",
        "--dump-dom",
        f"{live_server}{DOCS}",
    ]
    if os.geteuid() == 0:
        command.insert(1, "--no-sandbox")
    result = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    # Swagger UI drew the operations list from the served spec ...
    assert "opblock-summary-path" in result.stdout
    assert 'data-path="/api/v1/checkins/{date}"' in result.stdout
    # ... and the browser blocked nothing the page needed.
    assert "Content Security Policy" not in result.stderr
