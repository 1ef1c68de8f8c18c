"""The validated withdrawal instruments Steady scores, and how each is scored (pure).

Facts, item point values and sources: shared/reference/clinical-and-product.md section 1.
Item labels are neutral topic names, not the questionnaires' wording: the SOWS forms carry
a publisher's reprint notice. Scoring is keyed by item id, never by position or text, and
only a complete set of items has a total (the scales are monotone, so a partial sum would
only be a lower bound).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

# Who completes an instrument.
PATIENT = "patient"
CLINICIAN = "clinician"


@dataclass(frozen=True, slots=True)
class Option:
    """One allowed value of an item and the words that anchor it."""

    value: int
    anchor: str


@dataclass(frozen=True, slots=True)
class Item:
    """One item of an instrument: an id, a neutral label and its allowed values."""

    item_id: str
    label: str
    options: tuple[Option, ...]

    @property
    def values(self) -> tuple[int, ...]:
        """The values this item allows, lowest first."""
        return tuple(option.value for option in self.options)


@dataclass(frozen=True, slots=True)
class Band:
    """A published severity band: totals from `low` to `high` inclusive."""

    code: str
    label: str
    low: int
    high: int


@dataclass(frozen=True, slots=True)
class Instrument:
    """A versioned, validated instrument with its items, total range, bands and source."""

    id: str
    version: str
    name: str
    completed_by: str
    timing: str
    items: tuple[Item, ...]
    bands: tuple[Band, ...]
    citation: str
    interpretation: str

    @property
    def total_min(self) -> int:
        """The lowest possible total."""
        return sum(min(item.values) for item in self.items)

    @property
    def total_max(self) -> int:
        """The highest possible total."""
        return sum(max(item.values) for item in self.items)

    @property
    def item_ids(self) -> tuple[str, ...]:
        """The item ids in the instrument's order."""
        return tuple(item.item_id for item in self.items)

    def band_for(self, total: int) -> Band | None:
        """The published band a total falls in, or None (no band published, or below them)."""
        return next((band for band in self.bands if band.low <= total <= band.high), None)


@dataclass(frozen=True, slots=True)
class Scored:
    """A complete response's total and band."""

    total: int
    band: Band | None


def _options(*pairs: tuple[int, str]) -> tuple[Option, ...]:
    """Options from (value, anchor) pairs."""
    return tuple(Option(value, anchor) for value, anchor in pairs)


def _items(labels: Mapping[str, str], options: tuple[Option, ...]) -> tuple[Item, ...]:
    """Items that share one set of options (the SOWS scales)."""
    return tuple(Item(item_id, label, options) for item_id, label in labels.items())


SOWS_GOSSOP = Instrument(
    id="sows-gossop-10",
    version="1",
    name="Short Opiate Withdrawal Scale (SOWS-Gossop)",
    completed_by=PATIENT,
    timing="daily",
    items=_items(
        {
            "feeling_sick": "Feeling sick",
            "stomach_cramps": "Stomach cramps",
            "muscle_spasms": "Muscle spasms or twitching",
            "feeling_cold": "Feeling of coldness",
            "heart_pounding": "Heart pounding",
            "muscular_tension": "Muscular tension",
            "aches_and_pains": "Aches and pains",
            "yawning": "Yawning",
            "runny_eyes": "Runny eyes",
            "insomnia": "Insomnia or problems sleeping",
        },
        _options((0, "none"), (1, "mild"), (2, "moderate"), (3, "severe")),
    ),
    bands=(),
    citation=(
        "Gossop M. The development of a Short Opiate Withdrawal Scale (SOWS). "
        "Addict Behav 1990;15(5):487-490. doi:10.1016/0306-4603(90)90036-W"
    ),
    interpretation=(
        "No severity bands are published. Change is read against the person's own "
        "baseline; a change of 2 to 4 points has been reported as clinically meaningful "
        "(second-hand, from lofexidine trial reports; not checked against the source)."
    ),
)

SOWS_HANDELSMAN = Instrument(
    id="sows-handelsman-16",
    version="1",
    name="Subjective Opiate Withdrawal Scale (SOWS-Handelsman)",
    completed_by=PATIENT,
    timing="point_in_time",
    items=_items(
        {
            "anxiety": "Anxiety",
            "yawning": "Yawning",
            "perspiring": "Perspiring",
            "tearing_eyes": "Tearing eyes",
            "runny_nose": "Runny nose",
            "goose_flesh": "Goose flesh",
            "shaking": "Shaking",
            "hot_flashes": "Hot flashes",
            "cold_flashes": "Cold flashes",
            "bone_and_muscle_aches": "Bone and muscle aches",
            "restlessness": "Restlessness",
            "nausea": "Nausea",
            "urge_to_vomit": "Urge to vomit",
            "muscle_twitching": "Muscle twitching",
            "stomach_cramps": "Stomach cramps",
            "urge_to_use": "Urge to use now",
        },
        _options(
            (0, "not at all"),
            (1, "a little"),
            (2, "moderately"),
            (3, "quite a bit"),
            (4, "extremely"),
        ),
    ),
    # The 1-10 / 11-20 / 21+ bands seen in some code belong to a modified 15-item version
    # scored 0-60; none are validated for this 16-item total.
    bands=(),
    citation=(
        "Handelsman L, Cochrane KJ, Aronson MJ, Ness R, Rubinstein KJ, Kanof PD. Two new "
        "rating scales for opiate withdrawal. Am J Drug Alcohol Abuse 1987;13(3):293-308"
    ),
    interpretation="No severity bands are validated for the 16-item total; none are applied.",
)

COWS = Instrument(
    id="cows-11",
    version="1",
    name="Clinical Opiate Withdrawal Scale (COWS)",
    completed_by=CLINICIAN,
    timing="point_in_time",
    items=(
        Item(
            "resting_pulse",
            "Resting pulse rate (after one minute sitting or lying)",
            _options((0, "80 or below"), (1, "81-100"), (2, "101-120"), (4, "above 120")),
        ),
        Item(
            "sweating",
            "Sweating over the past half hour, not due to room temperature or activity",
            _options(
                (0, "no report of chills or flushing"),
                (1, "subjective report of chills or flushing"),
                (2, "flushed or observable moistness on face"),
                (3, "beads of sweat on brow or face"),
                (4, "sweat streaming off face"),
            ),
        ),
        Item(
            "restlessness",
            "Restlessness observed during assessment",
            _options(
                (0, "able to sit still"),
                (1, "reports difficulty sitting still, but is able to do so"),
                (3, "frequent shifting or extraneous movements of legs or arms"),
                (5, "unable to sit still for more than a few seconds"),
            ),
        ),
        Item(
            "pupil_size",
            "Pupil size",
            _options(
                (0, "pupils pinned or normal size for room light"),
                (1, "pupils possibly larger than normal for room light"),
                (2, "pupils moderately dilated"),
                (5, "pupils so dilated that only the rim of the iris is visible"),
            ),
        ),
        Item(
            "bone_or_joint_aches",
            "Bone or joint aches (only the part due to opioid withdrawal)",
            _options(
                (0, "not present"),
                (1, "mild diffuse discomfort"),
                (2, "reports severe diffuse aching of joints or muscles"),
                (4, "rubbing joints or muscles and unable to sit still because of discomfort"),
            ),
        ),
        Item(
            "runny_nose_or_tearing",
            "Runny nose or tearing, not due to cold symptoms or allergies",
            _options(
                (0, "not present"),
                (1, "nasal stuffiness or unusually moist eyes"),
                (2, "nose running or tearing"),
                (4, "nose constantly running or tears streaming down cheeks"),
            ),
        ),
        Item(
            "gi_upset",
            "Gastrointestinal upset over the last half hour",
            _options(
                (0, "no GI symptoms"),
                (1, "stomach cramps"),
                (2, "nausea or loose stool"),
                (3, "vomiting or diarrhoea"),
                (5, "multiple episodes of diarrhoea or vomiting"),
            ),
        ),
        Item(
            "tremor",
            "Tremor, observed with outstretched hands",
            _options(
                (0, "no tremor"),
                (1, "tremor can be felt, but not observed"),
                (2, "slight tremor observable"),
                (4, "gross tremor or muscle twitching"),
            ),
        ),
        Item(
            "yawning",
            "Yawning observed during assessment",
            _options(
                (0, "no yawning"),
                (1, "yawning once or twice during assessment"),
                (2, "yawning three or more times during assessment"),
                (4, "yawning several times a minute"),
            ),
        ),
        Item(
            "anxiety_or_irritability",
            "Anxiety or irritability",
            _options(
                (0, "none"),
                (1, "reports increasing irritability or anxiousness"),
                (2, "obviously irritable or anxious"),
                (4, "so irritable or anxious that participation in the assessment is difficult"),
            ),
        ),
        Item(
            "gooseflesh_skin",
            "Gooseflesh skin",
            _options(
                (0, "skin is smooth"),
                (3, "piloerection of skin can be felt or hairs standing up on arms"),
                (5, "prominent piloerection"),
            ),
        ),
    ),
    bands=(
        Band("mild", "mild", 5, 12),
        Band("moderate", "moderate", 13, 24),
        Band("moderately_severe", "moderately severe", 25, 36),
        Band("severe", "severe", 37, 48),
    ),
    citation=(
        "Wesson DR, Ling W. The Clinical Opiate Withdrawal Scale (COWS). "
        "J Psychoactive Drugs 2003;35(2):253-259. doi:10.1080/02791072.2003.10400007 "
        "(item descriptions after the public-domain form in NCBI Bookshelf NBK64244)"
    ),
    interpretation=(
        "Published bands: 5-12 mild, 13-24 moderate, 25-36 moderately severe, above 36 "
        "severe. A total below 5 falls in no band (not conclusive of withdrawal)."
    ),
)

INSTRUMENTS: dict[str, Instrument] = {
    instrument.id: instrument for instrument in (SOWS_GOSSOP, SOWS_HANDELSMAN, COWS)
}
# The instruments a patient submits, and the ones a clinician observes.
PATIENT_INSTRUMENTS = tuple(i.id for i in INSTRUMENTS.values() if i.completed_by == PATIENT)
CLINICIAN_INSTRUMENTS = tuple(i.id for i in INSTRUMENTS.values() if i.completed_by == CLINICIAN)
# Every band code any instrument publishes, in order of severity.
BAND_CODES = tuple(dict.fromkeys(band.code for i in INSTRUMENTS.values() for band in i.bands))


def item_errors(instrument: Instrument, items: Mapping[str, object]) -> dict[str, list[str]]:
    """What is wrong with a response's items, by item id (empty when it can be scored)."""
    errors: dict[str, list[str]] = {}
    for item in instrument.items:
        if item.item_id not in items:
            errors[item.item_id] = ["Missing: every item must be answered."]
            continue
        value = items[item.item_id]
        # bool is an int subclass; true is not a score.
        if isinstance(value, bool) or not isinstance(value, int) or value not in item.values:
            allowed = ", ".join(str(v) for v in item.values)
            errors[item.item_id] = [f"Must be one of: {allowed}."]
    for item_id in items:
        if item_id not in instrument.item_ids:
            errors[item_id] = [f"Unknown item: {instrument.id} has no such item."]
    return errors


def score(instrument: Instrument, items: Mapping[str, int]) -> Scored:
    """Total and band of a complete, valid response (ValueError otherwise)."""
    if item_errors(instrument, items):
        raise ValueError("Only a complete response with allowed values can be scored.")
    total = sum(items[item_id] for item_id in instrument.item_ids)
    return Scored(total, instrument.band_for(total))


@dataclass(frozen=True, slots=True)
class Recorded:
    """A stored, scored result as reports read it: a SOWS response or a COWS observation."""

    id: str
    instrument_id: str
    instrument_version: str
    # The patient's local calendar day the result describes.
    day: date
    # When it was entered (UTC), and for a clinician's observation, when it was observed.
    recorded_at: datetime
    observed_at: datetime | None
    items: Mapping[str, int]
    total: int
    band: str | None
