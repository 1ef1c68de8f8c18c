"""Every paged list the same way: `page` and `page_size` in, a page body and a Link header out.

Lists ordered by the database page there (LIMIT/OFFSET, total from the same statement);
a list ordered in Python (the patient list, by urgency) is sliced after sorting.
"""

from collections.abc import Sequence
from urllib.parse import quote, urlencode

from flask import request
from marshmallow import Schema, fields, validate
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from server.common.serialization import PlannedDump

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
MAX_PAGE = 100_000
_TOTAL = "steady_total_items"


class PageQuerySchema(Schema):
    """Which page of a list, and how long a page is."""

    page = fields.Integer(
        load_default=1,
        validate=validate.Range(min=1, max=MAX_PAGE),
        metadata={"description": "Page number, from 1"},
    )
    page_size = fields.Integer(
        load_default=DEFAULT_PAGE_SIZE,
        validate=validate.Range(min=1, max=MAX_PAGE_SIZE),
        metadata={"description": f"Items per page (at most {MAX_PAGE_SIZE})"},
    )


class PageSchema(PlannedDump):
    """Where a page sits in the whole list; each list adds its `items`."""

    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    total_items = fields.Integer(required=True)
    total_pages = fields.Integer(required=True)


def offset_of(page: int, page_size: int) -> int:
    """Rows to skip before a 1-based page."""
    return (page - 1) * page_size


def page_of(items: Sequence, *, page: int, page_size: int, total_items: int) -> dict:
    """Wrap a page's items with its position in the whole list."""
    return {
        "items": items,
        "page": page,
        "page_size": page_size,
        "total_items": total_items,
        "total_pages": -(-total_items // page_size),
    }


def fetch_page(
    session: Session, query: Select, params: dict | None = None, *, page: int, page_size: int
) -> tuple[list, int]:
    """One page of a query's rows and the total count, in one statement.

    The total rides along as a window count; only a page past the end (no rows to carry
    it) costs a second statement. The query must order its rows completely.
    """
    counted = (
        query.add_columns(func.count().over().label(_TOTAL))
        .limit(page_size)
        .offset(offset_of(page, page_size))
    )
    rows = session.execute(counted, params or {}).all()
    if rows:
        return [row[:-1] for row in rows], rows[0][-1]
    if page == 1:
        return [], 0
    total = session.scalar(
        select(func.count()).select_from(query.order_by(None).subquery()), params or {}
    )
    return [], total


def slice_page(ordered: Sequence, *, page: int, page_size: int) -> dict:
    """A page of a list already complete and ordered in Python."""
    start = offset_of(page, page_size)
    return page_of(
        ordered[start : start + page_size],
        page=page,
        page_size=page_size,
        total_items=len(ordered),
    )


def link_header(page: int, page_size: int, total_pages: int) -> str:
    """RFC 8288 first/prev/next/last links of the current request, other parameters kept.

    Root-relative URIs: built from the request path, never from the client's Host header.
    """
    last = max(total_pages, 1)
    targets = {
        "first": 1,
        "prev": min(page - 1, last) if page > 1 else None,
        "next": page + 1 if page < last else None,
        "last": last,
    }
    kept = [
        (name, value)
        for name, value in request.args.items(multi=True)
        if name not in ("page", "page_size")
    ]
    path = quote(request.script_root + request.path)

    def uri(number: int) -> str:
        query = urlencode([*kept, ("page", number), ("page_size", page_size)])
        return f"{path}?{query}"

    return ", ".join(
        f'<{uri(number)}>; rel="{relation}"'
        for relation, number in targets.items()
        if number is not None
    )


def with_links(body: dict) -> tuple[dict, int, dict]:
    """A view's answer for a page body: 200 with its Link header."""
    links = link_header(body["page"], body["page_size"], body["total_pages"])
    return body, 200, {"Link": links}
