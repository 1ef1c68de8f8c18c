"""One page of a longer list, in the shape every paged endpoint answers."""

from collections.abc import Sequence


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
