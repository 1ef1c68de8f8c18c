"""The example images under docs/ are built from judged fictional days."""

from bench.docs_images import IMAGES, example_days
from server.trends.chart import FLAGS, day_flags


def test_example_month_shows_every_kind_of_flagged_day():
    """The README's chart has a crisis, an overdose-risk, a dehydration-risk and a use day."""
    flagged = set().union(*(day_flags(day) for day in example_days()))
    assert flagged == {flag.key for flag in FLAGS}


def test_every_example_image_renders():
    """Each entry of IMAGES returns a PNG."""
    for make in IMAGES.values():
        assert make().startswith(b"\x89PNG\r\n\x1a\n")
