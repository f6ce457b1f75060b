"""Risk levels and the documented rule that gives an assessment its indicative level.

The rule is stated once, in ``indicative_level``, and explained for staff in
``docs/risk.md``. The facilitator records the final level; a final level that
differs from the indicative one needs a written rationale.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from rj_scheduler.risk.questionnaires import Questionnaire

MEDIUM_AT = 4
HIGH_AT = 8


class RiskLevel(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def rank(self) -> int:
        return {"low": 0, "medium": 1, "high": 2}[self.value]


LEVEL_VALUES = tuple(level.value for level in RiskLevel)


@dataclass(frozen=True)
class RaisedFactor:
    """A risk question whose answer raises the risk: which factor, by how much, critical or not."""

    question_id: str
    factor: str
    weight: int
    critical: bool


@dataclass(frozen=True)
class IndicativeResult:
    level: RiskLevel
    score: int
    raised: tuple[RaisedFactor, ...]

    @property
    def critical_factors(self) -> list[str]:
        return sorted({r.factor for r in self.raised if r.critical})


def raised_factors(questionnaire: Questionnaire, answers: Mapping[str, str]) -> list[RaisedFactor]:
    """The risk questions whose current answer is one of the answers that raise the risk."""
    raised = []
    for question in questionnaire.questions:
        rule = question.risk
        if rule is None:
            continue
        if answers.get(question.id) in rule.raises_when:
            raised.append(RaisedFactor(question.id, rule.factor, rule.weight, rule.critical))
    return raised


def level_for(score: int, any_critical: bool) -> RiskLevel:
    """The level for a score: critical → high; ``HIGH_AT`` or more → high; ``MEDIUM_AT`` or more → medium."""
    if any_critical or score >= HIGH_AT:
        return RiskLevel.HIGH
    if score >= MEDIUM_AT:
        return RiskLevel.MEDIUM
    return RiskLevel.LOW


def indicative_level(questionnaire: Questionnaire, answers: Mapping[str, str]) -> IndicativeResult:
    """The indicative risk level of a set of answers, by one documented rule.

    1. Each risk question names the answers that raise the risk; every such
       answer given adds the question's weight (a whole number from 1 to 10)
       to the score. Unanswered questions add nothing.
    2. If any question marked critical is answered with a risk-raising answer
       (for example "there are current threats of retaliation"), the level is
       high, whatever the score.
    3. Otherwise a score of 8 or more is high, 4 to 7 is medium, and 0 to 3 is
       low.

    Because weights are positive, giving one more risk-raising answer never
    lowers the level.
    """
    raised = raised_factors(questionnaire, answers)
    score = sum(r.weight for r in raised)
    return IndicativeResult(
        level=level_for(score, any(r.critical for r in raised)), score=score, raised=tuple(raised)
    )
