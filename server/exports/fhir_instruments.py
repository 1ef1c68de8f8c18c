"""FHIR R4 resources for instrument results (SOWS responses, COWS observations).

Appended to the export Bundle after the check-in days, only when the range holds a result:

* a ``CodeSystem`` ``<base>/CodeSystem/steady-instruments``: each instrument id, and under
  it ``<instrument>.<item>`` per item (the points and their anchors in ``definition``),
  ``<instrument>.total`` and ``<instrument>.band.<band>`` where bands are published. No
  LOINC code exists for these scales (clinical reference §1.5), so none is used;
* one ``Questionnaire`` per instrument version in the range, canonical
  ``<base>/Questionnaire/<instrument id>`` with ``version``: a ``day`` date item, as in
  the check-ins' Questionnaire (the patient's local day the result describes), for clinician
  instruments an
  ``observed-at`` dateTime item, then one integer item per instrument item whose
  ``answerOption``s are its allowed points;
* per result, a ``QuestionnaireResponse`` (``authored`` = when it was entered) and an
  ``Observation`` of the total (``effectiveDateTime`` = the day for a self-report, the
  observation time for a clinician's; the band as ``interpretation`` where one is
  published; ``performer`` the patient for a self-report), ``derivedFrom`` the response.

The clinician who observed stays unnamed (a display-only reference): the bundle identifies
no one but the pseudonymous patient.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from server.common.dates import iso_utc
from server.exports.fhir_bundle import (
    DAY_LINK_ID,
    OBSERVATION_CATEGORY_SYSTEM,
    _coding,
    _meta,
    _security,
)
from server.instruments.definitions import (
    INSTRUMENTS,
    PATIENT,
    Band,
    Instrument,
    Item,
    Recorded,
)

CODESYSTEM_VERSION = "1.0.0"
# The same first item as the daily check-in's Questionnaire: the day the answers describe.
DAY_DESCRIBED = DAY_LINK_ID
DAY_DESCRIBED_TEXT = "The day this describes (the patient's local calendar day)"
OBSERVED_AT = "observed-at"
OBSERVED_AT_TEXT = "When the clinician observed"
CLINICIAN_OBSERVED = "clinician-observed"
CLINICIAN_OBSERVED_TEXT = "Observed by a clinician"
CLINICIAN = {"display": "Clinician (recorded through the patient's Steady share)"}


def codesystem_url(base: str) -> str:
    """The canonical URL of the instruments CodeSystem."""
    return f"{base}/CodeSystem/steady-instruments"


def questionnaire_url(base: str, instrument: Instrument) -> str:
    """The canonical URL (without version) of an instrument's Questionnaire."""
    return f"{base}/Questionnaire/{instrument.id}"


def total_display(instrument: Instrument) -> str:
    """How a total's code reads, e.g. "COWS total (0-48)"."""
    return f"{instrument.short_name} total ({instrument.total_min}-{instrument.total_max})"


def _band_display(instrument: Instrument, band: Band) -> str:
    """How a band's code reads, e.g. "COWS mild (5-12)"."""
    return f"{instrument.short_name} {band.label} ({band.low}-{band.high})"


def _item_definition(item: Item) -> str:
    """An item's points and their anchors in words."""
    return "Points: " + "; ".join(f"{o.value} = {o.anchor}" for o in item.options) + "."


def _instrument_concept(instrument: Instrument) -> dict[str, Any]:
    """An instrument's code with its items, total and bands beneath it."""
    children = [
        {
            "code": f"{instrument.id}.{item.item_id}",
            "display": item.label,
            "definition": _item_definition(item),
        }
        for item in instrument.items
    ]
    children.append({"code": f"{instrument.id}.total", "display": total_display(instrument)})
    children += [
        {
            "code": f"{instrument.id}.band.{band.code}",
            "display": _band_display(instrument, band),
        }
        for band in instrument.bands
    ]
    return {
        "code": instrument.id,
        "display": instrument.name,
        "definition": f"{instrument.citation}. {instrument.interpretation}",
        "concept": children,
    }


def _codesystem(base: str, resource_id: str) -> dict[str, Any]:
    """Every instrument, item, total and band code, and the two export codes."""
    concepts = [_instrument_concept(instrument) for instrument in INSTRUMENTS.values()]
    concepts += [
        {"code": DAY_DESCRIBED, "display": DAY_DESCRIBED_TEXT},
        {"code": OBSERVED_AT, "display": OBSERVED_AT_TEXT},
        {"code": CLINICIAN_OBSERVED, "display": CLINICIAN_OBSERVED_TEXT},
    ]
    count = sum(1 + len(concept.get("concept", ())) for concept in concepts)
    return {
        "resourceType": "CodeSystem",
        "id": resource_id,
        "meta": {"security": _security()},
        "url": codesystem_url(base),
        "version": CODESYSTEM_VERSION,
        "name": "SteadyInstrumentCodes",
        "title": "Steady codes for validated withdrawal instruments",
        "status": "active",
        "experimental": False,
        "description": "Local codes for the instruments Steady scores (instrument ids, "
        "item ids, totals and published bands). No LOINC codes are known for these scales.",
        "caseSensitive": True,
        "hierarchyMeaning": "part-of",
        "content": "complete",
        "count": count,
        "concept": concepts,
    }


def _questionnaire(base: str, instrument: Instrument, version: str, resource_id: str):
    """Describe one instrument version as a form: the day, then every item's points."""
    system = codesystem_url(base)
    items: list[dict[str, Any]] = [
        {
            "linkId": DAY_DESCRIBED,
            "code": [_coding(system, DAY_DESCRIBED, DAY_DESCRIBED_TEXT)],
            "text": DAY_DESCRIBED_TEXT,
            "type": "date",
            "required": True,
        }
    ]
    if instrument.completed_by != PATIENT:
        items.append(
            {
                "linkId": OBSERVED_AT,
                "code": [_coding(system, OBSERVED_AT, OBSERVED_AT_TEXT)],
                "text": OBSERVED_AT_TEXT,
                "type": "dateTime",
                "required": True,
            }
        )
    items += [
        {
            "linkId": item.item_id,
            "code": [_coding(system, f"{instrument.id}.{item.item_id}", item.label)],
            "text": item.label,
            "type": "integer",
            "required": True,
            "answerOption": [{"valueInteger": value} for value in item.values],
        }
        for item in instrument.items
    ]
    who = "the patient (self-report)" if instrument.completed_by == PATIENT else "a clinician"
    return {
        "resourceType": "Questionnaire",
        "id": resource_id,
        "meta": {"security": _security()},
        "url": questionnaire_url(base, instrument),
        "version": version,
        "name": "".join(part.capitalize() for part in instrument.id.split("-")),
        "title": instrument.name,
        "status": "active",
        "subjectType": ["Patient"],
        "code": [_coding(system, instrument.id, instrument.name)],
        "description": f"{instrument.name}, completed by {who}; every item must be answered "
        f"and the total is the sum of the points ({instrument.total_min}-"
        f"{instrument.total_max}). {instrument.interpretation} Source: {instrument.citation}. "
        "Item labels are neutral topic names, not the form's wording; each item's anchors "
        "are in the definition of its code.",
        "item": items,
    }


def iter_entries(
    results: Sequence[Recorded],
    *,
    uid: Callable[[str], str],
    base: str,
    checkin_codesystem: str,
    patient_uid: str,
) -> Iterator[dict[str, Any]]:
    """Bundle entries for the results: nothing at all when there are none."""
    if not results:
        return
    system_uid = uid("CodeSystem/steady-instruments")
    yield {"fullUrl": f"urn:uuid:{system_uid}", "resource": _codesystem(base, system_uid)}
    # Definitions hold one version per instrument; a result names the version it was scored on.
    versions = dict.fromkeys((r.instrument_id, r.instrument_version) for r in results)
    for instrument_id, version in versions:
        form_uid = uid(f"Questionnaire/{instrument_id}|{version}")
        form = _questionnaire(base, INSTRUMENTS[instrument_id], version, form_uid)
        yield {"fullUrl": f"urn:uuid:{form_uid}", "resource": form}
    patient_ref = {"reference": f"urn:uuid:{patient_uid}"}
    for result in results:
        yield from _result_entries(
            result,
            uid=uid,
            base=base,
            checkin_codesystem=checkin_codesystem,
            patient_ref=patient_ref,
        )


def _result_entries(
    result: Recorded,
    *,
    uid: Callable[[str], str],
    base: str,
    checkin_codesystem: str,
    patient_ref: dict[str, str],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One result's QuestionnaireResponse and the Observation of its total."""
    instrument = INSTRUMENTS[result.instrument_id]
    system = codesystem_url(base)
    self_report = result.observed_at is None
    if self_report:
        meta = _meta(checkin_codesystem)
        who: dict[str, Any] = {"author": dict(patient_ref), "source": dict(patient_ref)}
        performer = dict(patient_ref)
    else:
        meta = {
            "security": _security(),
            "tag": [_coding(system, CLINICIAN_OBSERVED, CLINICIAN_OBSERVED_TEXT)],
        }
        who = {"author": dict(CLINICIAN)}
        performer = dict(CLINICIAN)
    answers: list[dict[str, Any]] = [
        {
            "linkId": DAY_DESCRIBED,
            "text": DAY_DESCRIBED_TEXT,
            "answer": [{"valueDate": result.day.isoformat()}],
        }
    ]
    if not self_report:
        answers.append(
            {
                "linkId": OBSERVED_AT,
                "text": OBSERVED_AT_TEXT,
                "answer": [{"valueDateTime": iso_utc(result.observed_at)}],
            }
        )
    answers += [
        {
            "linkId": item.item_id,
            "text": item.label,
            "answer": [{"valueInteger": int(result.items[item.item_id])}],
        }
        for item in instrument.items
    ]
    qr_uid, obs_uid = uid(f"QuestionnaireResponse/{result.id}"), uid(f"Observation/{result.id}")
    authored = iso_utc(result.recorded_at)
    response = {
        "resourceType": "QuestionnaireResponse",
        "id": qr_uid,
        "meta": meta,
        "questionnaire": f"{questionnaire_url(base, instrument)}|{result.instrument_version}",
        "status": "completed",
        "subject": dict(patient_ref),
        "authored": authored,
        **who,
        "item": answers,
    }
    display = total_display(instrument)
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "id": obs_uid,
        "meta": meta,
        "status": "final",
        "category": [
            {
                "coding": [
                    {"system": OBSERVATION_CATEGORY_SYSTEM, "code": "survey", "display": "Survey"}
                ]
            }
        ],
        "code": {"coding": [_coding(system, f"{instrument.id}.total", display)], "text": display},
        "subject": dict(patient_ref),
        # A bare date is a valid dateTime: a self-report covers the day.
        "effectiveDateTime": iso_utc(result.observed_at)
        if result.observed_at
        else result.day.isoformat(),
        "issued": authored,
        "performer": [performer],
        "valueInteger": int(result.total),
        "derivedFrom": [{"reference": f"urn:uuid:{qr_uid}"}],
    }
    band = next((b for b in instrument.bands if b.code == result.band), None)
    if band is not None:
        observation["interpretation"] = [
            {
                "coding": [
                    _coding(
                        system,
                        f"{instrument.id}.band.{band.code}",
                        _band_display(instrument, band),
                    )
                ],
                "text": band.label,
            }
        ]
    return (
        {"fullUrl": f"urn:uuid:{qr_uid}", "resource": response},
        {"fullUrl": f"urn:uuid:{obs_uid}", "resource": observation},
    )
