"""Refusals of the risk capability, each carrying plain-English reasons."""

from __future__ import annotations


class RiskError(Exception):
    """Base class: a rule of the risk capability refused the request."""


class QuestionnaireInvalid(RiskError):
    """A questionnaire file is not a valid questionnaire (the message says which file and why)."""


class _Reasons(RiskError):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__(" ".join(reasons))
        self.reasons = list(reasons)


class AnswersInvalid(RiskError):
    """Some answers are not answers the question accepts: ``errors`` maps a question id to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


class LevelInvalid(AnswersInvalid):
    """The final level, rationale or suitability conclusion was refused (``errors`` by field)."""


class MitigationInvalid(AnswersInvalid):
    """A mitigation was refused (``errors`` by field)."""


class AssessmentLocked(_Reasons):
    """The assessment cannot be changed in its current state (for example, it is approved or submitted)."""


class AssessmentStartRefused(_Reasons):
    """An assessment cannot be started for this party (for example, their role has no such assessment)."""


class SubmissionRefused(_Reasons):
    """Submitted with required answers missing (each listed) or from a state that cannot be submitted."""

    def __init__(self, reasons: list[str], missing: list[tuple[str, str]] | None = None) -> None:
        super().__init__(reasons)
        # (question id or field name, plain-English message) for each missing answer.
        self.missing = list(missing or [])


class SignOffRefused(_Reasons):
    """An approval or return was refused: own assessment, wrong role, stale form, wrong state, no comments."""


class SettingsInvalid(AnswersInvalid):
    """The risk settings were refused (``errors`` by field)."""
