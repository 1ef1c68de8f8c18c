"""Derive the per-region emergency numbers shipped in emergency_numbers.json.

Regenerate from the research cross-check (reference/emergency-numbers-crosscheck.json):

    .venv/bin/python -m server.resources.emergency_numbers PATH_TO_CROSSCHECK [DERIVED_ON]

A region gets a number only where Android's emergency-number table (AOSP eccdata) and
libphonenumber's short-number metadata agree on its ambulance number; every other region
is shown the fallback text instead (server/resources/catalogue.py).
"""

import json
import sys
from datetime import date
from pathlib import Path

PATH = Path(__file__).with_name("emergency_numbers.json")
SOURCE_URL = (
    "https://android.googlesource.com/platform/packages/services/Telephony/+/master/"
    "ecc/input/eccdata.txt"
)
ATTRIBUTION = (
    "Android's emergency-number table (AOSP eccdata) and Google's libphonenumber, both "
    "Apache-2.0, agree on this number."
)


def derive(crosscheck: dict, derived_on: date) -> dict:
    """The shipped document: each region's agreed ambulance number, and where it came from."""
    numbers = {
        code: row["aosp_ambulance"]
        for code, row in sorted(crosscheck.items())
        if code != "_meta" and row.get("cross_check") == "agree"
    }
    return {
        "derived_on": derived_on.isoformat(),
        "source_url": SOURCE_URL,
        "attribution": ATTRIBUTION,
        "sources": crosscheck["_meta"]["sources"],
        "numbers": numbers,
    }


def load() -> dict:
    """The shipped document."""
    return json.loads(PATH.read_text(encoding="utf-8"))


if __name__ == "__main__":
    crosscheck = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    on = date.fromisoformat(sys.argv[2]) if len(sys.argv) > 2 else date.today()
    PATH.write_text(json.dumps(derive(crosscheck, on), indent=2) + "\n", encoding="utf-8")
