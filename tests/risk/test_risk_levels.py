"""The indicative risk level rule: weights add up; 4 or more is medium, 8 or more high; a critical factor is high."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rj_scheduler.risk.levels import HIGH_AT, MEDIUM_AT, RiskLevel, indicative_level, level_for
from rj_scheduler.risk.questionnaires import default_library, parse_questionnaire


def _questionnaire(weights: list[int], critical: set[int] = frozenset()):  # type: ignore[assignment]
    questions = [
        {
            "id": f"q{i}",
            "type": "yes_no",
            "text": f"Question {i}?",
            "risk": {"factor": f"factor_{i}", "weight": w, "raises_when": ["yes"], "critical": i in critical},
        }
        for i, w in enumerate(weights)
    ]
    questions.append({"id": "notes", "type": "free_text", "text": "Notes", "required": False})
    return parse_questionnaire(
        {
            "id": "test-risk",
            "version": 1,
            "title": "Test",
            "party_role": "victim",
            "kind": "risk",
            "pages": [{"id": "only", "title": "Only", "questions": questions}],
        }
    )


def test_the_documented_thresholds_are_four_and_eight():
    assert (MEDIUM_AT, HIGH_AT) == (4, 8)


@pytest.mark.parametrize(
    ("score", "expected"),
    [(0, "low"), (3, "low"), (4, "medium"), (7, "medium"), (8, "high"), (30, "high")],
)
def test_each_boundary_of_the_score(score, expected):
    questionnaire = _questionnaire([1] * 30)
    answers = {f"q{i}": "yes" for i in range(score)} | {f"q{i}": "no" for i in range(score, 30)}
    result = indicative_level(questionnaire, answers)
    assert (result.score, result.level) == (score, RiskLevel(expected))


def test_a_critical_factor_answered_present_is_high_whatever_the_score():
    questionnaire = _questionnaire([1, 1], critical={0})
    assert indicative_level(questionnaire, {"q0": "yes"}).level == RiskLevel.HIGH
    assert indicative_level(questionnaire, {"q0": "no", "q1": "yes"}).level == RiskLevel.LOW


def test_unanswered_and_non_raising_answers_add_nothing():
    questionnaire = _questionnaire([5, 5])
    assert indicative_level(questionnaire, {}).score == 0
    assert indicative_level(questionnaire, {"q0": "no", "notes": "yes"}).score == 0


def test_the_installed_questionnaires_make_threats_of_retaliation_high():
    victim_risk = default_library().newest("victim", "risk")
    result = indicative_level(victim_risk, {"current_threats": "yes"})
    assert result.level == RiskLevel.HIGH
    assert result.critical_factors == ["retaliation"]


@given(score=st.integers(min_value=0, max_value=200), extra=st.integers(min_value=1, max_value=10))
def test_a_higher_score_never_gives_a_lower_level(score, extra):
    assert level_for(score + extra, False).rank >= level_for(score, False).rank
    assert level_for(score, True) == RiskLevel.HIGH


@given(
    weights=st.lists(st.integers(min_value=1, max_value=10), min_size=1, max_size=12),
    data=st.data(),
)
def test_adding_a_risk_raising_answer_never_lowers_the_level(weights, data):
    critical = set(data.draw(st.sets(st.integers(min_value=0, max_value=len(weights) - 1))))
    questionnaire = _questionnaire(weights, critical)
    answers = {f"q{i}": data.draw(st.sampled_from(["yes", "no", None])) for i in range(len(weights))}
    answers = {k: v for k, v in answers.items() if v is not None}
    before = indicative_level(questionnaire, answers)
    chosen = data.draw(st.integers(min_value=0, max_value=len(weights) - 1))
    after = indicative_level(questionnaire, {**answers, f"q{chosen}": "yes"})
    assert after.score >= before.score
    assert after.level.rank >= before.level.rank
