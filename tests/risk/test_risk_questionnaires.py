"""Questionnaires are versioned data files, validated on load; an assessment keeps its own version."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from factories import make_case, make_user

from rj_scheduler.db import now
from rj_scheduler.risk import services
from rj_scheduler.risk.exceptions import QuestionnaireInvalid
from rj_scheduler.risk.questionnaires import QUESTIONNAIRE_DIR, load_library, parse_questionnaire


def _minimal(**changes) -> dict:
    data = {
        "id": "victim-risk",
        "version": 1,
        "title": "Victim risk assessment",
        "party_role": "victim",
        "kind": "risk",
        "pages": [
            {
                "id": "safety",
                "title": "Safety",
                "questions": [
                    {
                        "id": "threats",
                        "type": "yes_no",
                        "text": "Are there current threats?",
                        "risk": {"factor": "retaliation", "weight": 5, "raises_when": ["yes"]},
                    }
                ],
            }
        ],
    }
    data.update(changes)
    return data


def _with_question(question: dict) -> dict:
    data = _minimal()
    data["pages"][0]["questions"].append(question)
    return data


def test_installed_questionnaires_load_and_cover_every_party_and_kind():
    library = load_library()
    assert library.kinds_for("victim") == ["suitability", "risk"]
    assert library.kinds_for("offender") == ["suitability", "risk"]
    assert library.kinds_for("supporter") == ["risk"]
    ids = {q.id for q in library.newest("offender", "suitability").questions}
    assert {"accepts_responsibility", "motivation", "mental_health_concern", "substance_use"} <= ids
    risk_ids = {q.id for q in library.newest("victim", "risk").questions}
    assert {"power_imbalance", "fear_of_retaliation", "safeguarding_concern", "risk_to_staff"} <= risk_ids


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_with_question({"id": "threats", "type": "yes_no", "text": "Again?"}), "used twice"),
        (_with_question({"id": "mood", "type": "slider", "text": "Mood?"}), "unknown type"),
        (_with_question({"id": "pick", "type": "choice", "text": "Pick one"}), "at least two choices"),
        (
            _with_question(
                {"id": "pick", "type": "choice", "text": "Pick", "choices": [{"value": "a", "label": "A"}]}
            ),
            "at least two choices",
        ),
        (
            _with_question(
                {"id": "x", "type": "yes_no", "text": "X?", "risk": {"factor": "f", "raises_when": ["yes"]}}
            ),
            "weight",
        ),
        (
            _with_question(
                {"id": "x", "type": "yes_no", "text": "X?", "risk": {"weight": 2, "raises_when": ["yes"]}}
            ),
            "factor",
        ),
        (
            _with_question(
                {
                    "id": "x",
                    "type": "yes_no",
                    "text": "X?",
                    "risk": {"factor": "f", "weight": 2, "raises_when": ["maybe"]},
                }
            ),
            "cannot have",
        ),
        (
            _with_question(
                {
                    "id": "x",
                    "type": "free_text",
                    "text": "X?",
                    "risk": {"factor": "f", "weight": 2, "raises_when": ["a"]},
                }
            ),
            "free text",
        ),
        (_minimal(kind="wellbeing"), "kind must be"),
        (_minimal(party_role="interpreter"), "party_role"),
    ],
)
def test_a_questionnaire_with_a_mistake_is_refused_on_load_with_the_reason(data, message):
    with pytest.raises(QuestionnaireInvalid, match=message):
        parse_questionnaire(data, "test.json")


def test_a_file_whose_name_disagrees_with_its_version_is_refused(tmp_path: Path):
    (tmp_path / "victim-risk.v2.json").write_text(json.dumps(_minimal()))
    with pytest.raises(QuestionnaireInvalid, match="match the file name"):
        load_library(tmp_path)


def test_an_assessment_keeps_its_questionnaire_version_when_a_newer_one_appears(tmp_path: Path):
    for path in QUESTIONNAIRE_DIR.glob("*.json"):
        shutil.copy(path, tmp_path / path.name)
    v1 = load_library(tmp_path)
    lead = make_user()
    victim = make_case(lead.service, lead=lead).parties[0]
    assessment = services.start_assessment(victim, "risk", actor=lead, at=now(), library=v1)
    assert (assessment.questionnaire_id, assessment.questionnaire_version) == ("victim-risk", 1)

    newer = json.loads((tmp_path / "victim-risk.v1.json").read_text())
    newer["version"] = 2
    newer["pages"][0]["questions"].append(
        {"id": "new_question", "type": "yes_no", "text": "A question only version 2 asks?"}
    )
    (tmp_path / "victim-risk.v2.json").write_text(json.dumps(newer))
    v2 = load_library(tmp_path)

    assert v2.newest("victim", "risk").version == 2
    kept = services.questionnaire_of(assessment, v2)
    assert kept.version == 1
    assert kept.question("new_question") is None
    missing_ids = {key for key, _ in services.missing_for_submission(assessment, v2)}
    assert "new_question" not in missing_ids
    assert "power_imbalance" in missing_ids

    # A party assessed after the new version appeared gets version 2.
    offender_case = make_case(lead.service, lead=lead)
    fresh = services.start_assessment(offender_case.parties[0], "risk", actor=lead, at=now(), library=v2)
    assert fresh.questionnaire_version == 2
    assert "new_question" in {key for key, _ in services.missing_for_submission(fresh, v2)}
