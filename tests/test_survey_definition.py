"""Survey definition files: the default loads; every problem is reported with its path."""

import copy
import json

import pytest

from qualivilles.bundled import (
    DEFAULT_SURVEY_ID,
    SURVEYS_DIR,
    bundled_surveys,
    load_default_survey,
)
from qualivilles.survey import (
    SurveyDefinitionError,
    load_definition,
    missing_translations,
    parse_definition,
)

DEFAULT_SURVEY_PATH = SURVEYS_DIR / "qualivilles-accueil.v3.json"
RAW = json.loads(DEFAULT_SURVEY_PATH.read_text(encoding="utf-8"))


def test_the_default_survey_is_valid_and_fully_translated():
    survey = load_definition(DEFAULT_SURVEY_PATH)
    assert survey.main.type == "smiley"
    assert [c.id for c in survey.main.choices][-1] == "no_opinion"
    assert {"welcome", "waiting", "clarity", "premises", "comment", "wait_band"} <= {
        q.id for q in survey.questions
    }
    assert missing_translations(survey) == []


def test_bundled_versions_are_all_valid_and_the_newest_is_the_default():
    versions = [(s.id, s.version) for s in bundled_surveys()]
    assert versions == [(DEFAULT_SURVEY_ID, 1), (DEFAULT_SURVEY_ID, 2), (DEFAULT_SURVEY_ID, 3)]
    assert load_default_survey().version == 3
    assert load_default_survey().languages == ["fr", "en", "es", "ar"]


def test_every_problem_is_reported_at_once_with_its_path():
    broken = copy.deepcopy(RAW)
    broken["questions"][1]["show_if"]["question"] = "nowhere"
    broken["questions"][2]["choices"] = broken["questions"][2]["choices"][:1]
    broken["main_question"] = "ghost"
    with pytest.raises(SurveyDefinitionError) as caught:
        parse_definition(broken, "broken.json")
    paths = {problem.path for problem in caught.value.problems}
    assert paths == {"questions[1].show_if.question", "questions[2].choices", "main_question"}
    assert "broken.json" in str(caught.value)


def test_type_errors_name_the_field():
    broken = copy.deepcopy(RAW)
    broken["version"] = "one"
    broken["questions"][0]["type"] = "stars"
    broken["questions"][3]["surprise"] = True
    with pytest.raises(SurveyDefinitionError) as caught:
        parse_definition(broken)
    paths = {problem.path for problem in caught.value.problems}
    assert paths == {"version", "questions[0].type", "questions[3].surprise"}


def test_a_branch_on_a_choice_that_does_not_exist_is_an_error():
    broken = copy.deepcopy(RAW)
    broken["questions"][1]["show_if"]["any_of"] = ["dissatisfied", "furious"]
    with pytest.raises(SurveyDefinitionError) as caught:
        parse_definition(broken)
    assert [p.path for p in caught.value.problems] == ["questions[1].show_if.any_of[1]"]


def test_duplicate_question_ids_are_an_error():
    broken = copy.deepcopy(RAW)
    broken["questions"][3]["id"] = "welcome"
    with pytest.raises(SurveyDefinitionError) as caught:
        parse_definition(broken)
    assert [p.path for p in caught.value.problems] == ["questions[3].id"]


def test_malformed_json_names_the_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{\n  "id": "x",\n  oops\n}', encoding="utf-8")
    with pytest.raises(SurveyDefinitionError) as caught:
        load_definition(path)
    assert caught.value.problems[0].path == "line 3"


def test_missing_translations_are_listed_without_failing_the_load():
    partial = copy.deepcopy(RAW)
    del partial["questions"][2]["text"]["en"]
    survey = parse_definition(partial)
    assert [str(p) for p in missing_translations(survey)] == [
        "questions[2].text: no 'en' translation"
    ]


def test_the_kiosk_asks_the_main_question_the_agent_s_welcome_and_why_when_unhappy():
    survey = load_default_survey()
    assert [q.id for q in survey.kiosk_questions] == ["overall", "why_unhappy", "welcome"]
    older = load_definition(SURVEYS_DIR / "qualivilles-accueil.v2.json")
    assert older.kiosk_questions == older.questions  # before v3 the kiosk asked everything


def test_the_main_question_is_always_asked_on_the_kiosk():
    broken = copy.deepcopy(RAW)
    broken["questions"][0]["kiosk"] = False
    with pytest.raises(SurveyDefinitionError) as caught:
        parse_definition(broken)
    assert [p.path for p in caught.value.problems] == ["main_question"]


def test_questions_asked_everywhere_keep_the_json_of_older_versions():
    survey = load_default_survey()
    dumped = survey.model_dump(mode="json")
    marked = [q["id"] for q in dumped["questions"] if "kiosk" in q]
    assert marked == ["waiting", "clarity", "premises", "wait_band", "comment"]
    assert parse_definition(dumped) == survey
