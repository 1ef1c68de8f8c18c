"""The font files the report and its chart draw with (Debian's Noto packages, when installed)."""

from dataclasses import dataclass
from pathlib import Path

NOTO_DIR = Path("/usr/share/fonts/truetype/noto")
NOTO_CJK_DIR = Path("/usr/share/fonts/opentype/noto")


@dataclass(frozen=True)
class FontFiles:
    """A family's regular and bold files; `face` picks the font inside a collection (.ttc)."""

    family: str
    regular: Path
    bold: Path
    face: int = 0


# Debian's fonts-noto-core and fonts-noto-cjk. Noto Sans (Latin, Greek, Cyrillic) is the
# body font when installed; the others are fallbacks for the scripts it lacks, registered
# only when the report's text needs them (the CJK collection alone takes ~0.2 s to load).
NOTO_BODY = FontFiles("noto", NOTO_DIR / "NotoSans-Regular.ttf", NOTO_DIR / "NotoSans-Bold.ttf")
NOTO_FALLBACKS: tuple[FontFiles, ...] = tuple(
    FontFiles(
        f"noto-{script.lower()}",
        NOTO_DIR / f"NotoSans{script}-Regular.ttf",
        NOTO_DIR / f"NotoSans{script}-Bold.ttf",
    )
    for script in (
        "Hebrew",
        "Arabic",
        "Devanagari",
        "Bengali",
        "Tamil",
        "Thai",
        "Armenian",
        "Georgian",
        "Ethiopic",
        "Khmer",
    )
) + (
    # Face 0 is the Japanese one; every face of the collection draws all CJK ideographs.
    FontFiles(
        "noto-cjk", NOTO_CJK_DIR / "NotoSansCJK-Regular.ttc", NOTO_CJK_DIR / "NotoSansCJK-Bold.ttc"
    ),
)


def installed(files: FontFiles) -> bool:
    """Both weights are present."""
    return files.regular.is_file() and files.bold.is_file()
