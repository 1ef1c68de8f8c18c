"""Field validators shared by schemas."""

import re
from collections.abc import Sequence
from importlib import resources

from marshmallow import validate

# ISO 3166-1 alpha-2 officially assigned codes.
ISO_3166_ALPHA2 = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
    BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ
    DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP
    GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG
    KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML
    MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE
    PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL
    SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM
    US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
    """.split()
)


# The pinned tzdata package fixes the list, so the spec's enum is the same on every machine.
IANA_TIMEZONES = tuple(sorted(resources.files("tzdata").joinpath("zones").read_text().split()))
REGION_CODES = tuple(sorted(ISO_3166_ALPHA2))
# The region of an account that names none, and of an anonymous resource query.
DEFAULT_REGION = "US"


def constant_name(value: str) -> str:
    """A constant name for an enum member of generated clients: Etc/GMT+1 is ETC_GMT_PLUS_1."""
    spelled = re.sub(r"-(?=\d)", "_MINUS_", value.replace("+", "_PLUS_"))
    return re.sub(r"[^A-Z0-9]+", "_", spelled.upper()).strip("_")


class Vocabulary(validate.OneOf):
    """A named closed list of words: the spec defines it once, as a component fields refer to.

    Generated clients then get one type per vocabulary (a `Scope`, a `TimeZone`) instead of
    one per field that happens to use it.
    """

    def __init__(
        self, name: str, choices: Sequence[str], *, description: str, error: str | None = None
    ) -> None:
        super().__init__(tuple(choices), error=error)
        self.name = name
        self.description = description
        names = [constant_name(choice) for choice in self.choices]
        if len(set(names)) != len(names):
            raise ValueError(f"{name}: two values share a constant name")
        # Only where a value is no identifier (Europe/Dublin): generators would guess badly.
        plain = all(re.fullmatch(r"[a-z][a-z0-9_]*|[A-Z][A-Z0-9_]*", c) for c in self.choices)
        self.constant_names = None if plain else tuple(names)

    def component(self) -> dict:
        """The component schema of this vocabulary."""
        schema = {"type": "string", "enum": list(self.choices), "description": self.description}
        if self.constant_names:
            schema["x-enum-varnames"] = list(self.constant_names)
        return schema


timezone_rule = Vocabulary(
    "TimeZone",
    IANA_TIMEZONES,
    description="IANA time zone name (the tzdata release Steady pins)",
    error="Must be an IANA time zone name, e.g. 'Europe/Dublin'.",
)
region_rule = Vocabulary(
    "RegionCode",
    REGION_CODES,
    description="ISO 3166-1 alpha-2 country code",
    error="Must be an ISO 3166-1 alpha-2 country code, e.g. 'US'.",
)
