"""A browser-like client for the dashboard's pages: it keeps cookies and each form's token."""

import re
from html import unescape

from tests.factories import PASSWORD, Person

TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token of the first form of a page."""
    match = TOKEN_RE.search(html)
    assert match, "the page has no form with a CSRF token"
    return unescape(match.group(1))


def text_of(response) -> str:
    return response.get_data(as_text=True)


class Dashboard:
    """The dashboard through the Flask test client, as a browser without JavaScript uses it."""

    def __init__(self, client):
        self.client = client
        self.token: str | None = None

    def get(self, path: str, **kwargs):
        response = self.client.get(path, **kwargs)
        html = text_of(response)
        if TOKEN_RE.search(html):
            self.token = csrf_token(html)
        return response

    def post(self, path: str, data: dict | None = None, *, token: bool = True, **kwargs):
        form = dict(data or {})
        if token:
            form["csrf_token"] = self.token
        return self.client.post(path, data=form, **kwargs)

    def sign_in(self, person: Person, password: str = PASSWORD):
        self.get("/dashboard/login")
        return self.post("/dashboard/login", {"email": person.email, "password": password})

    def sign_out(self):
        self.get("/dashboard")
        return self.post("/dashboard/logout")

    def session_cookie(self):
        return self.client.get_cookie("steady_dashboard", path="/dashboard")
