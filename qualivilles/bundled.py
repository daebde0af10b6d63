"""What ships with the package: survey definitions, the demo town, the referential's starting
engagements and fonts.

The files live in the repository's `assets/` folder, which the package carries as
`qualivilles/assets`, so a wheel installed anywhere has them too (read through
`importlib.resources`, never through a path relative to a source checkout).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from qualivilles.survey import SurveyDefinition, load_definition

# A real folder on disk: fonts are opened by path (Kivy, fpdf2), not only read.
ASSETS_DIR = Path(str(files("qualivilles") / "assets"))
SURVEYS_DIR = ASSETS_DIR / "surveys"
FONTS_DIR = ASSETS_DIR / "fonts"
DEMO_TOWN_FILE = ASSETS_DIR / "demo" / "town.json"
# A starting list of engagements of the referential, which a town edits.
ENGAGEMENTS_FILE = ASSETS_DIR / "referential" / "engagements.json"
# A starting grid for mystery visits and calls, built on those engagements.
MYSTERY_GRID_FILE = ASSETS_DIR / "referential" / "mystery-grid.json"
DEFAULT_SURVEY_ID = "qualivilles-accueil"


def bundled_surveys() -> list[SurveyDefinition]:
    """Every definition shipped in assets/surveys/, oldest version first.

    Published versions are never edited: a change ships as a new `<id>.v<N>.json` file, and the
    old files stay so that answers to them (a kiosk offline since) are still understood.
    """
    surveys = [load_definition(path) for path in SURVEYS_DIR.glob("*.v*.json")]
    return sorted(surveys, key=lambda survey: (survey.id, survey.version))


def load_default_survey() -> SurveyDefinition:
    """The newest version of the default Qualivilles reception survey."""
    return [s for s in bundled_surveys() if s.id == DEFAULT_SURVEY_ID][-1]
