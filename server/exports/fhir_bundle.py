"""FHIR R4 ``collection`` Bundle of a patient's daily check-ins.

Contents: a pseudonymous ``Patient`` (Steady id and display name only), the
``Questionnaire`` for the daily check-in, a ``CodeSystem`` defining every
Steady code used (so codes resolve inside the bundle), and per logged day one
``QuestionnaireResponse`` (the faithful record) plus one ``Observation`` for
the 0-40 total, ``derivedFrom`` that response.
Instrument results (SOWS, COWS), when the range holds any, follow the days:
see ``fhir_instruments``.

Which day a response describes is its first answer, item ``day`` (type ``date``,
``answerDate``), declared in the Questionnaire like every other question: plain R4
that any reader lists with the answers, where an extension would need a definition
of its own. ``authored`` stays when the day was last entered (a back-filled day
is typed later than the day it describes), and the Observation's
``effectiveDateTime`` is the described day. Question texts are the check-in API's
field descriptions, so "used opioids" means since the last check-in, as it does
in the API.

Codes: no LOINC code exists for these items (see the clinical reference,
§1.5), so every code comes from the Steady CodeSystem ``<base>/CodeSystem/
steady-checkin``; no LOINC code is invented.

Export context, kept within plain R4 (no custom extensions):

* the date range is ``Bundle.identifier.value``
  (``steady-export-<patient_id>-<start>-<end>``);
* ``Bundle.timestamp`` is when the export was produced;
* the self-reported nature is a ``meta.tag`` with code ``self-reported``
  from the Steady CodeSystem;
* every resource and the Bundle carry the ``ETH`` (substance abuse
  information sensitivity) ``meta.security`` label.

``fullUrl``s are ``urn:uuid:`` uuid5 values derived from the base URL, patient
id, resource kind and date, so exporting the same data twice gives the same
document.
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from server.checkins.schemas import CheckinInputSchema
from server.common.dates import iso_utc
from server.exports.csv_export import taken_text

DEFAULT_BASE_URL = "https://steady.example/fhir"
QUESTIONNAIRE_VERSION = "1.0.0"
CODESYSTEM_VERSION = "1.0.0"

ACT_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
OBSERVATION_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
MIN_VALUE_EXT = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE_EXT = "http://hl7.org/fhir/StructureDefinition/maxValue"

# FHIR ``id`` datatype: 1-64 of [A-Za-z0-9-.].
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")

DAY_LINK_ID = "day"
DAY_TEXT = "Day this check-in describes"
NOTE_TEXT = "Note (free text)"


def _api_meaning(name: str) -> str:
    """The question as the check-in API describes the field, so both always say the same."""
    return CheckinInputSchema().fields[name].metadata["description"]


# (linkId, FHIR item type, display text, required, min, max). The day comes first: it is
# what every answer is about, and `authored` is only when the day was (last) entered.
ITEMS: tuple[tuple[str, str, str, bool, int | None, int | None], ...] = (
    (DAY_LINK_ID, "date", DAY_TEXT, True, None, None),
    ("nausea", "integer", _api_meaning("nausea"), True, 0, 10),
    ("aches", "integer", _api_meaning("aches"), True, 0, 10),
    ("anxiety", "integer", _api_meaning("anxiety"), True, 0, 10),
    ("insomnia", "integer", _api_meaning("insomnia"), True, 0, 10),
    ("diarrhea", "integer", _api_meaning("diarrhea"), False, 0, 10),
    ("vomiting", "integer", _api_meaning("vomiting"), False, 0, 10),
    ("cravings", "integer", _api_meaning("cravings"), False, 0, 10),
    ("sleep_hours", "decimal", _api_meaning("sleep_hours"), False, 0, 24),
    ("used_opioids", "boolean", _api_meaning("used_opioids"), False, None, None),
    ("crisis", "boolean", _api_meaning("crisis"), False, None, None),
    # One answer per thing taken: "substance (amount as the person wrote it)".
    ("taken", "string", _api_meaning("taken"), False, None, None),
    ("note", "string", NOTE_TEXT, False, None, None),
)
TOTAL_CODE = "total"
TOTAL_DISPLAY = "Steady daily check-in total (0-40)"
SELF_REPORTED_CODE = "self-reported"
SELF_REPORTED_DISPLAY = "Self-reported by the patient"

_VALUE_KEY = {
    "integer": "valueInteger",
    "decimal": "valueDecimal",
    "boolean": "valueBoolean",
    "string": "valueString",
    "date": "valueDate",
}


def _urls(base_url: str) -> dict[str, str]:
    """Derive the canonical URLs used in the bundle from the base URL."""
    base = base_url.rstrip("/")
    return {
        "base": base,
        "codesystem": f"{base}/CodeSystem/steady-checkin",
        "questionnaire": f"{base}/Questionnaire/steady-daily-checkin",
        "patient_sid": f"{base}/sid/steady-user",
        "export_sid": f"{base}/sid/steady-export",
    }


def _security() -> list[dict[str, str]]:
    """Return the ETH security label (a fresh list per resource)."""
    return [
        {
            "system": ACT_CODE_SYSTEM,
            "code": "ETH",
            "display": "substance abuse information sensitivity",
        }
    ]


def _meta(codesystem: str) -> dict[str, Any]:
    """Return meta with the ETH label and the self-reported tag."""
    return {
        "security": _security(),
        "tag": [
            {
                "system": codesystem,
                "code": SELF_REPORTED_CODE,
                "display": SELF_REPORTED_DISPLAY,
            }
        ],
    }


def _coding(codesystem: str, code: str, display: str) -> dict[str, str]:
    """Build a Steady CodeSystem coding."""
    return {"system": codesystem, "code": code, "display": display}


def _codesystem(urls: dict[str, str], resource_id: str) -> dict[str, Any]:
    """Define every Steady code used in the bundle."""
    concepts = [{"code": link_id, "display": text} for link_id, _, text, *_ in ITEMS]
    concepts.append({"code": TOTAL_CODE, "display": TOTAL_DISPLAY})
    concepts.append({"code": SELF_REPORTED_CODE, "display": SELF_REPORTED_DISPLAY})
    return {
        "resourceType": "CodeSystem",
        "id": resource_id,
        "meta": {"security": _security()},
        "url": urls["codesystem"],
        "version": CODESYSTEM_VERSION,
        "name": "SteadyCheckinCodes",
        "title": "Steady daily check-in codes",
        "status": "active",
        "experimental": False,
        "description": "Local codes for Steady's self-reported daily withdrawal check-in. "
        "Not a validated clinical instrument; no LOINC equivalents are known.",
        "caseSensitive": True,
        "content": "complete",
        "count": len(concepts),
        "concept": concepts,
    }


def _questionnaire(urls: dict[str, str], resource_id: str) -> dict[str, Any]:
    """Describe the daily check-in form (stable across exports)."""
    items = []
    for link_id, item_type, text, required, low, high in ITEMS:
        item: dict[str, Any] = {
            "linkId": link_id,
            "code": [_coding(urls["codesystem"], link_id, text)],
            "text": text,
            "type": item_type,
            "required": required,
        }
        if link_id == "taken":
            item["repeats"] = True
        if low is not None and high is not None:
            key = _VALUE_KEY[item_type]
            item["extension"] = [
                {"url": MIN_VALUE_EXT, key: low},
                {"url": MAX_VALUE_EXT, key: high},
            ]
        items.append(item)
    return {
        "resourceType": "Questionnaire",
        "id": resource_id,
        "meta": {"security": _security()},
        "url": urls["questionnaire"],
        "version": QUESTIONNAIRE_VERSION,
        "name": "SteadyDailyCheckin",
        "title": "Steady daily withdrawal check-in",
        "status": "active",
        "subjectType": ["Patient"],
        "description": "Self-reported daily symptom scores (0-10 each); the total is the "
        "sum of nausea, aches, anxiety and insomnia (0-40).",
        "item": items,
    }


def _answer_items(checkin: Any, *, include_notes: bool) -> list[dict[str, Any]]:
    """Build QR items: one per answered question, none for unanswered ones."""
    items = []
    for link_id, item_type, text, *_ in ITEMS:
        if link_id == DAY_LINK_ID:
            value: Any = checkin.date.isoformat()
        elif link_id == "note":
            note = checkin.note if include_notes else None
            # FHIR strings must not be empty or whitespace-only.
            value = note if note and note.strip() else None
        elif link_id == "taken":
            if checkin.taken:
                answers = [{"valueString": taken_text(item)} for item in checkin.taken]
                items.append({"linkId": link_id, "text": text, "answer": answers})
            continue
        else:
            value = getattr(checkin, link_id)
        if value is None:
            continue
        if item_type == "decimal":
            value = float(value)
        items.append({"linkId": link_id, "text": text, "answer": [{_VALUE_KEY[item_type]: value}]})
    return items


def build_bundle(*, checkins: Iterable[Any], **kwargs: Any) -> dict[str, Any]:
    """Return the whole Bundle as one JSON-ready dict (check-ins in any order)."""
    ordered = sorted(checkins, key=lambda c: c.date)
    return json.loads("".join(iter_bundle(checkins=ordered, **kwargs)))


def iter_bundle(
    *,
    patient_id: str,
    display_name: str,
    checkins: Iterable[Any],
    start: date,
    end: date,
    produced_at: datetime,
    include_notes: bool,
    base_url: str = DEFAULT_BASE_URL,
    instruments: Sequence[Any] = (),
) -> Iterator[str]:
    """Yield a FHIR R4 collection Bundle of the check-ins in [start, end] as JSON text.

    Check-ins must come in date order; each day's two entries are encoded as it arrives,
    so memory stays flat however long the range.
    """
    # Validate eagerly (this is not a generator function) so a bad call fails
    # before the response starts streaming, not halfway through the download.
    if start > end:
        raise ValueError("start must be on or before end")
    patient_id = str(patient_id)
    if not _FHIR_ID.match(patient_id):
        raise ValueError("patient_id is not a valid FHIR id ([A-Za-z0-9-.]{1,64})")
    urls = _urls(base_url)
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, urls["base"])

    def uid(kind: str, day: date | None = None) -> str:
        suffix = f"/{day.isoformat()}" if day else ""
        return str(uuid.uuid5(namespace, f"{patient_id}/{kind}{suffix}"))

    patient_uid = uid("Patient")
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": patient_id,
        "meta": {"security": _security()},
        "identifier": [{"system": urls["patient_sid"], "value": patient_id}],
    }
    # Pseudonymous on purpose: the chosen display name only, no email, birth
    # date or legal name. FHIR forbids empty strings, so a blank name is omitted.
    if display_name and display_name.strip():
        patient["name"] = [{"text": display_name}]
    entries: list[dict[str, Any]] = [{"fullUrl": f"urn:uuid:{patient_uid}", "resource": patient}]
    for kind, builder in (("Questionnaire", _questionnaire), ("CodeSystem", _codesystem)):
        resource_uid = uid(kind)
        entries.append(
            {"fullUrl": f"urn:uuid:{resource_uid}", "resource": builder(urls, resource_uid)}
        )
    head = {
        "resourceType": "Bundle",
        "id": uid(f"Bundle/{start.isoformat()}/{end.isoformat()}"),
        "meta": _meta(urls["codesystem"]),
        "identifier": {
            "system": urls["export_sid"],
            "value": f"steady-export-{patient_id}-{start.isoformat()}-{end.isoformat()}",
        },
        "type": "collection",
        "timestamp": iso_utc(produced_at),
    }
    # The head's closing brace gives way to the entry array, which the days then extend.
    opening = f'{_dumps(head)[:-1]},"entry":[{",".join(_dumps(e) for e in entries)}'
    day_entries = functools.partial(
        _day_entries, uid=uid, urls=urls, patient_uid=patient_uid, include_notes=include_notes
    )
    # Imported here: the instrument resources build on this module's helpers.
    from server.exports.fhir_instruments import iter_entries

    tail = iter_entries(
        instruments,
        uid=uid,
        base=urls["base"],
        checkin_codesystem=urls["codesystem"],
        patient_uid=patient_uid,
    )
    return _generate(opening, checkins, start, end, day_entries, tail)


def _dumps(value: Any) -> str:
    """Compact JSON, non-ASCII kept as is."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _generate(opening: str, checkins: Iterable[Any], start: date, end: date, day_entries, tail=()):
    """Yield the opening, then each day in range as it arrives, the tail, then the closing."""
    yield opening
    for checkin in checkins:
        if start <= checkin.date <= end:
            yield "".join("," + _dumps(entry) for entry in day_entries(checkin))
    for entry in tail:
        yield "," + _dumps(entry)
    yield "]}"


def _day_entries(
    checkin: Any, *, uid, urls: dict[str, str], patient_uid: str, include_notes: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One day's QuestionnaireResponse and its total Observation."""
    patient_ref = {"reference": f"urn:uuid:{patient_uid}"}
    canonical = f"{urls['questionnaire']}|{QUESTIONNAIRE_VERSION}"
    day: date = checkin.date
    qr_uid, obs_uid = uid("QuestionnaireResponse", day), uid("Observation", day)
    authored = iso_utc(checkin.updated_at)
    response = {
        "fullUrl": f"urn:uuid:{qr_uid}",
        "resource": {
            "resourceType": "QuestionnaireResponse",
            "id": qr_uid,
            "meta": _meta(urls["codesystem"]),
            "questionnaire": canonical,
            "status": "completed",
            "subject": dict(patient_ref),
            "authored": authored,
            "author": dict(patient_ref),
            "source": dict(patient_ref),
            "item": _answer_items(checkin, include_notes=include_notes),
        },
    }
    observation = {
        "fullUrl": f"urn:uuid:{obs_uid}",
        "resource": {
            "resourceType": "Observation",
            "id": obs_uid,
            "meta": _meta(urls["codesystem"]),
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": OBSERVATION_CATEGORY_SYSTEM,
                            "code": "survey",
                            "display": "Survey",
                        }
                    ]
                }
            ],
            "code": {
                "coding": [_coding(urls["codesystem"], TOTAL_CODE, TOTAL_DISPLAY)],
                "text": TOTAL_DISPLAY,
            },
            "subject": dict(patient_ref),
            # A bare date is a valid dateTime: the score covers the day.
            "effectiveDateTime": day.isoformat(),
            "issued": authored,
            "performer": [dict(patient_ref)],
            "valueInteger": int(checkin.total),
            "derivedFrom": [{"reference": f"urn:uuid:{qr_uid}"}],
        },
    }
    return response, observation
