"""Reading a chart's SVG as a client would: fetch and parse it, its words, its groups."""

import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"


def get_svg(client, path: str, headers: dict) -> ET.Element:
    """GET an SVG chart and parse it."""
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.data
    assert response.mimetype == "image/svg+xml"
    return ET.fromstring(response.data)


def texts(root: ET.Element) -> list[str]:
    """Every <text> element's words."""
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def group(root: ET.Element, gid: str) -> ET.Element | None:
    """The group with this id, if the chart draws one."""
    return next((g for g in root.iter(f"{SVG}g") if g.get("id") == gid), None)


def markers(root: ET.Element, gid: str) -> int:
    """How many markers the group with this id draws (the group must exist, once)."""
    found = [g for g in root.iter(f"{SVG}g") if g.get("id") == gid]
    assert len(found) == 1, gid
    return len(list(found[0].iter(f"{SVG}use")))
