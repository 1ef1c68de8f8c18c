"""The words Steady's data is made of, defined once (symptoms, levels, scopes, actions)."""

# The four core withdrawal symptoms, each scored 0-10 on every check-in.
CORE_SYMPTOMS: tuple[str, ...] = ("nausea", "aches", "anxiety", "insomnia")
# Optional 0-10 scores.
OPTIONAL_SCORES: tuple[str, ...] = ("diarrhea", "vomiting", "cravings")
# Everything optional a check-in may carry besides its note.
OPTIONAL_EXTRAS: tuple[str, ...] = (*OPTIONAL_SCORES, "sleep_hours", "used_opioids", "crisis")
# What the patient enters for a day ("taken": what they took that day, in their own words).
CHECKIN_CONTENT: tuple[str, ...] = (*CORE_SYMPTOMS, *OPTIONAL_EXTRAS, "note", "taken")
SCORE_MAX = 10
MAX_TOTAL = SCORE_MAX * len(CORE_SYMPTOMS)

# What a withdrawal episode is from, and the medicine for opioid use disorder (MOUD) the
# person is on: their own account, never interpreted into advice.
SUBSTANCES: tuple[str, ...] = ("short_acting_opioid", "long_acting_opioid", "kratom", "other")
MOUD_NONE = "none"
MOUD: tuple[str, ...] = (MOUD_NONE, "buprenorphine", "methadone", "naltrexone")
# What a check-in's `taken` list may name: a substance, or one of the medicines.
TAKEN_SUBSTANCES: tuple[str, ...] = (*SUBSTANCES, *(name for name in MOUD if name != MOUD_NONE))

# How a day is judged, most urgent first. "stable" ranks above "improving" only so the
# order is total; the rules never produce both for the same day.
LEVELS: tuple[str, ...] = ("crisis", "severe", "worsening", "stable", "improving")
# The level reported before a patient's first check-in.
NO_DATA = "no_data"

# The validated instruments' ids (server/instruments/definitions.py defines each one; the
# judgement rules and the trends name them too).
SOWS_GOSSOP_ID = "sows-gossop-10"
SOWS_HANDELSMAN_ID = "sows-handelsman-16"
COWS_ID = "cows-11"

# What a patient may share with a counselor, in display order ("assess": the counselor may
# record clinician-observed instruments, COWS, about the patient and read them back).
SCOPES: tuple[str, ...] = ("checkins", "trends", "status", "export", "assess")

# Where a share stands on a given day (judged when read: no job expires rows).
SHARE_STATUSES: tuple[str, ...] = ("active", "expired", "revoked")

# What the access log records: a counselor's read of a patient's data, or a consent change.
AUDIT_ACTIONS: tuple[str, ...] = (
    "patient_listed",
    "checkins_viewed",
    "episodes_viewed",
    "trends_viewed",
    "chart_viewed",
    "status_viewed",
    "export",
    "alerts_viewed",
    "alert_acknowledged",
    "observation_recorded",
    "observations_viewed",
    "instrument_responses_viewed",
    "share_created",
    "share_replaced",
    "share_revoked",
)
