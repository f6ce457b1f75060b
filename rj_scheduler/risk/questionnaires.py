"""Questionnaires: versioned data files, validated on load, never hard-coded forms.

Each file under ``rj_scheduler/risk/questionnaires/`` is one version of one
questionnaire, named ``<questionnaire id>.v<version>.json``. A party role and
an assessment kind pick the newest version; an assessment stores the id and
version it was started with and keeps using them when a newer version appears.

A questionnaire has pages (each saved with "Save and continue"), and each page
has questions. A question has an ``id`` unique in the questionnaire, a
``type`` (``yes_no``, ``choice``, ``scale`` or ``free_text``), the ``text``
asked, optional ``help`` text, whether it is ``required`` to submit, the
``choices`` of a choice question, and ``min``/``max`` of a scale. A risk
question also has ``risk``: the ``factor`` it feeds, a positive ``weight``,
the answers that raise the risk (``raises_when``) and whether it is
``critical`` (see ``rj_scheduler.risk.levels``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from rj_scheduler.risk.exceptions import QuestionnaireInvalid

QUESTIONNAIRE_DIR = Path(__file__).resolve().parent / "questionnaires"
_FILE_NAME = re.compile(r"^(?P<id>[a-z][a-z0-9-]*)\.v(?P<version>[1-9][0-9]*)\.json$")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
QUESTION_TYPES = ("yes_no", "choice", "scale", "free_text")
ASSESSMENT_KINDS = ("suitability", "risk")
PARTY_ROLES = ("victim", "offender", "supporter")
MAX_WEIGHT = 10


@dataclass(frozen=True)
class RiskRule:
    """How one question feeds the indicative risk level."""

    factor: str
    weight: int
    raises_when: frozenset[str]
    critical: bool = False


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    text: str
    help: str | None = None
    required: bool = True
    choices: tuple[tuple[str, str], ...] = ()
    scale_min: int = 1
    scale_max: int = 5
    scale_labels: tuple[str, str] | None = None
    risk: RiskRule | None = None

    def allowed_values(self) -> tuple[str, ...] | None:
        """The answers this question accepts, or None for free text."""
        if self.type == "yes_no":
            return ("yes", "no")
        if self.type == "choice":
            return tuple(value for value, _ in self.choices)
        if self.type == "scale":
            return tuple(str(n) for n in range(self.scale_min, self.scale_max + 1))
        return None

    def answer_label(self, value: str | None) -> str:
        """The answer as staff read it."""
        if value is None or value == "":
            return "Not answered"
        if self.type == "yes_no":
            return {"yes": "Yes", "no": "No"}.get(value, value)
        if self.type == "choice":
            return dict(self.choices).get(value, value)
        if self.type == "scale" and self.scale_labels:
            return f"{value} (from {self.scale_min}, {self.scale_labels[0]}, to {self.scale_max}, {self.scale_labels[1]})"
        return value


@dataclass(frozen=True)
class Page:
    id: str
    title: str
    questions: tuple[Question, ...]
    intro: str | None = None


@dataclass(frozen=True)
class Questionnaire:
    id: str
    version: int
    title: str
    party_role: str
    kind: str
    pages: tuple[Page, ...]
    _by_id: dict[str, Question] = field(default_factory=dict, compare=False, repr=False)

    @property
    def questions(self) -> list[Question]:
        return [q for page in self.pages for q in page.questions]

    def question(self, question_id: str) -> Question | None:
        return self._by_id.get(question_id)

    def page(self, page_id: str) -> Page | None:
        return next((p for p in self.pages if p.id == page_id), None)

    def next_page(self, page_id: str) -> Page | None:
        ids = [p.id for p in self.pages]
        index = ids.index(page_id)
        return self.pages[index + 1] if index + 1 < len(ids) else None

    def page_of(self, question_id: str) -> Page | None:
        return next((p for p in self.pages if any(q.id == question_id for q in p.questions)), None)


def _problem(source: str, message: str) -> QuestionnaireInvalid:
    return QuestionnaireInvalid(f"{source}: {message}")


def _question(source: str, data: object, seen: set[str]) -> Question:
    if not isinstance(data, dict):
        raise _problem(source, "each question is an object")
    qid = data.get("id")
    if not isinstance(qid, str) or not _ID.match(qid):
        raise _problem(source, f"question id {qid!r} must be lower_case_with_underscores")
    if qid in seen:
        raise _problem(source, f"question id {qid!r} is used twice")
    seen.add(qid)
    where = f"question {qid!r}"
    qtype = data.get("type")
    if qtype not in QUESTION_TYPES:
        raise _problem(source, f"{where} has unknown type {qtype!r} (known: {', '.join(QUESTION_TYPES)})")
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise _problem(source, f"{where} has no text")
    help_text = data.get("help")
    if help_text is not None and not isinstance(help_text, str):
        raise _problem(source, f"{where} has help that is not text")
    required = data.get("required", True)
    if not isinstance(required, bool):
        raise _problem(source, f"{where}: required must be true or false")
    choices: tuple[tuple[str, str], ...] = ()
    if qtype == "choice":
        raw = data.get("choices")
        if not isinstance(raw, list) or len(raw) < 2:
            raise _problem(source, f"{where} is a choice question and needs at least two choices")
        values: list[tuple[str, str]] = []
        for choice in raw:
            if (
                not isinstance(choice, dict)
                or not isinstance(choice.get("value"), str)
                or not _ID.match(choice["value"])
                or not isinstance(choice.get("label"), str)
            ):
                raise _problem(source, f"{where}: each choice has a value (lower_case) and a label")
            values.append((choice["value"], choice["label"]))
        if len({v for v, _ in values}) != len(values):
            raise _problem(source, f"{where} repeats a choice value")
        choices = tuple(values)
    elif "choices" in data:
        raise _problem(source, f"{where} has choices but is not a choice question")
    scale_min, scale_max, scale_labels = 1, 5, None
    if qtype == "scale":
        scale_min, scale_max = data.get("min", 1), data.get("max", 5)
        if not (isinstance(scale_min, int) and isinstance(scale_max, int) and scale_min < scale_max <= 10):
            raise _problem(source, f"{where} needs a whole-number scale with min below max (at most 10)")
        labels = data.get("labels")
        if labels is not None:
            if not (
                isinstance(labels, list) and len(labels) == 2 and all(isinstance(x, str) for x in labels)
            ):
                raise _problem(source, f"{where}: labels are two texts, for the lowest and highest point")
            scale_labels = (labels[0], labels[1])
    risk = None
    if "risk" in data:
        rule = data["risk"]
        if qtype == "free_text":
            raise _problem(source, f"{where} is free text and cannot feed a risk factor")
        if not isinstance(rule, dict):
            raise _problem(source, f"{where}: risk is an object")
        factor, weight = rule.get("factor"), rule.get("weight")
        if not isinstance(factor, str) or not _ID.match(factor):
            raise _problem(source, f"{where}: a risk question needs a factor (lower_case_with_underscores)")
        if not isinstance(weight, int) or isinstance(weight, bool) or not 1 <= weight <= MAX_WEIGHT:
            raise _problem(
                source, f"{where}: a risk question needs a whole-number weight from 1 to {MAX_WEIGHT}"
            )
        raises = rule.get("raises_when")
        if not isinstance(raises, list) or not raises or not all(isinstance(v, str) for v in raises):
            raise _problem(source, f"{where}: raises_when lists the answers that raise the risk")
        probe = Question(
            id=qid, type=qtype, text=text, choices=choices, scale_min=scale_min, scale_max=scale_max
        )
        unknown = sorted(set(raises) - set(probe.allowed_values() or ()))
        if unknown:
            raise _problem(source, f"{where}: raises_when names answers it cannot have: {', '.join(unknown)}")
        critical = rule.get("critical", False)
        if not isinstance(critical, bool):
            raise _problem(source, f"{where}: critical must be true or false")
        risk = RiskRule(factor=factor, weight=weight, raises_when=frozenset(raises), critical=critical)
    return Question(
        id=qid,
        type=qtype,
        text=text.strip(),
        help=help_text,
        required=required,
        choices=choices,
        scale_min=scale_min,
        scale_max=scale_max,
        scale_labels=scale_labels,
        risk=risk,
    )


def parse_questionnaire(data: object, source: str = "questionnaire") -> Questionnaire:
    """Build and validate one questionnaire from its decoded JSON; ``QuestionnaireInvalid`` says what is wrong."""
    if not isinstance(data, dict):
        raise _problem(source, "a questionnaire is an object")
    qid, version = data.get("id"), data.get("version")
    if not isinstance(qid, str) or not re.match(r"^[a-z][a-z0-9-]*$", qid):
        raise _problem(source, "id must be lower-case-with-hyphens")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _problem(source, "version must be a whole number from 1")
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise _problem(source, "title is missing")
    role, kind = data.get("party_role"), data.get("kind")
    if role not in PARTY_ROLES:
        raise _problem(source, f"party_role must be one of {', '.join(PARTY_ROLES)}")
    if kind not in ASSESSMENT_KINDS:
        raise _problem(source, f"kind must be one of {', '.join(ASSESSMENT_KINDS)}")
    pages_data = data.get("pages")
    if not isinstance(pages_data, list) or not pages_data:
        raise _problem(source, "a questionnaire has at least one page")
    seen: set[str] = set()
    page_ids: set[str] = set()
    pages: list[Page] = []
    for page in pages_data:
        if not isinstance(page, dict):
            raise _problem(source, "each page is an object")
        pid = page.get("id")
        if not isinstance(pid, str) or not _ID.match(pid) or pid in page_ids:
            raise _problem(source, f"page id {pid!r} must be lower_case_with_underscores and unique")
        page_ids.add(pid)
        ptitle = page.get("title")
        if not isinstance(ptitle, str) or not ptitle.strip():
            raise _problem(source, f"page {pid!r} has no title")
        questions = page.get("questions")
        if not isinstance(questions, list) or not questions:
            raise _problem(source, f"page {pid!r} has no questions")
        pages.append(
            Page(
                id=pid,
                title=ptitle,
                intro=page.get("intro"),
                questions=tuple(_question(source, q, seen) for q in questions),
            )
        )
    questionnaire = Questionnaire(
        id=qid, version=version, title=title.strip(), party_role=role, kind=kind, pages=tuple(pages)
    )
    questionnaire._by_id.update({q.id: q for q in questionnaire.questions})
    return questionnaire


@dataclass(frozen=True)
class QuestionnaireLibrary:
    """Every version of every questionnaire found in one directory."""

    by_key: dict[tuple[str, int], Questionnaire]

    def get(self, questionnaire_id: str, version: int) -> Questionnaire:
        try:
            return self.by_key[(questionnaire_id, version)]
        except KeyError:
            raise QuestionnaireInvalid(
                f"questionnaire {questionnaire_id} version {version} is not installed"
            ) from None

    def newest(self, party_role: str, kind: str) -> Questionnaire:
        """The newest version of the questionnaire for this party role and assessment kind."""
        matching = [q for q in self.by_key.values() if q.party_role == party_role and q.kind == kind]
        if not matching:
            raise QuestionnaireInvalid(f"no {kind} questionnaire for a {party_role}")
        return max(matching, key=lambda q: q.version)

    def kinds_for(self, party_role: str) -> list[str]:
        """The assessment kinds a party of this role has (supporters: the short risk check only)."""
        return [
            k
            for k in ASSESSMENT_KINDS
            if any(q.party_role == party_role and q.kind == k for q in self.by_key.values())
        ]


def load_library(directory: Path | str = QUESTIONNAIRE_DIR) -> QuestionnaireLibrary:
    """Read and validate every questionnaire file in ``directory``; one bad file refuses the lot."""
    directory = Path(directory)
    by_key: dict[tuple[str, int], Questionnaire] = {}
    slots: dict[tuple[str, str], str] = {}
    for path in sorted(directory.glob("*.json")):
        match = _FILE_NAME.match(path.name)
        if not match:
            raise _problem(path.name, "file names are <id>.v<version>.json")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise _problem(path.name, f"is not valid JSON ({error})") from error
        questionnaire = parse_questionnaire(data, path.name)
        if questionnaire.id != match["id"] or questionnaire.version != int(match["version"]):
            raise _problem(path.name, "the id and version inside must match the file name")
        slot = (questionnaire.party_role, questionnaire.kind)
        if slots.setdefault(slot, questionnaire.id) != questionnaire.id:
            raise _problem(path.name, f"another questionnaire already covers the {slot[1]} of a {slot[0]}")
        by_key[(questionnaire.id, questionnaire.version)] = questionnaire
    return QuestionnaireLibrary(by_key=by_key)


@cache
def default_library() -> QuestionnaireLibrary:
    """The installed questionnaires (read once per process)."""
    return load_library(QUESTIONNAIRE_DIR)
