"""The words Steady's data is made of, defined once (symptoms, levels, scopes)."""

# The four core withdrawal symptoms, each scored 0-10 on every check-in.
CORE_SYMPTOMS: tuple[str, ...] = ("nausea", "aches", "anxiety", "insomnia")
# Optional 0-10 scores.
OPTIONAL_SCORES: tuple[str, ...] = ("diarrhea", "vomiting", "cravings")
# Everything optional a check-in may carry besides its note.
OPTIONAL_EXTRAS: tuple[str, ...] = (*OPTIONAL_SCORES, "sleep_hours", "used_opioids", "crisis")
# What the patient enters for a day.
CHECKIN_CONTENT: tuple[str, ...] = (*CORE_SYMPTOMS, *OPTIONAL_EXTRAS, "note")
SCORE_MAX = 10
MAX_TOTAL = SCORE_MAX * len(CORE_SYMPTOMS)

# How a day is judged, most urgent first. "stable" ranks above "improving" only so the
# order is total; the rules never produce both for the same day.
LEVELS: tuple[str, ...] = ("crisis", "severe", "worsening", "stable", "improving")
# The level reported before a patient's first check-in.
NO_DATA = "no_data"

# What a patient may share with a counselor, in display order.
SCOPES: tuple[str, ...] = ("checkins", "trends", "status", "export")
