"""How the dashboard words Steady's vocabulary for a counselor (text, never colour alone)."""

from datetime import date, datetime

from server.vocabulary import CORE_SYMPTOMS, NO_DATA, SCOPES

LEVEL_LABELS = {
    "crisis": "Crisis",
    "severe": "Severe",
    "worsening": "Worsening",
    "stable": "Stable",
    "improving": "Improving",
    NO_DATA: "No check-ins yet",
}
SCOPE_LABELS = {
    "checkins": "check-ins",
    "trends": "trends",
    "status": "status",
    "export": "export",
    "assess": "withdrawal assessments (COWS)",
}
SERIES_LABELS = {
    "nausea": "Nausea",
    "aches": "Aches",
    "anxiety": "Anxiety",
    "insomnia": "Insomnia",
    "total": "Total",
}
DIRECTION_LABELS = {
    "improving": "Improving",
    "stable": "Stable",
    "worsening": "Worsening",
    None: "Not enough data",
}


def level_label(level: str | None) -> str:
    """A level in words."""
    return LEVEL_LABELS.get(level or NO_DATA, level or "")


def scope_words(scope) -> str:
    """A share's scope as a list of words, in the vocabulary's order."""
    return ", ".join(SCOPE_LABELS[part] for part in SCOPES if part in scope)


def day_label(day: date | None) -> str:
    """A date as a counselor reads it: Mon 3 Mar 2025."""
    if day is None:
        return ""
    return f"{day:%a} {day.day} {day:%b %Y}"


def short_day(day: date) -> str:
    """A chart tick: 3 Mar."""
    return f"{day.day} {day:%b}"


def moment_label(moment: datetime | None) -> str:
    """A UTC time as a counselor reads it: 3 Mar 2025, 14:05 UTC."""
    if moment is None:
        return ""
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def number(value: float | None, places: int = 1) -> str:
    """A mean or change, rounded; an em dash when there is none."""
    if value is None:
        return "—"
    text = f"{value:.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def signed(value: float | None) -> str:
    """A change with its sign: +1.5, −2, 0."""
    if value is None:
        return "—"
    if value > 0:
        return "+" + number(value)
    if value < 0:
        return "−" + number(-value)
    return "0"


TEMPLATE_HELPERS = {
    "level_label": level_label,
    "scope_words": scope_words,
    "day_label": day_label,
    "short_day": short_day,
    "moment_label": moment_label,
    "number": number,
    "signed": signed,
    "series_labels": SERIES_LABELS,
    "direction_labels": DIRECTION_LABELS,
    "core_symptoms": CORE_SYMPTOMS,
}
