"""The rules of assessments and sign-off, as plain functions (they flush, never commit).

Each function takes the acting user and the time explicitly, records a
timeline entry and an audit entry, and raises the refusals in
``rj_scheduler.risk.exceptions`` with plain-English reasons. Audit details name
question ids and fields, never the answers or anyone's contact details.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from rj_scheduler.audit import services as audit
from rj_scheduler.auth.models import Role, Service, User
from rj_scheduler.cases.models import Party
from rj_scheduler.cases.services import add_timeline_event, apply_derived_state
from rj_scheduler.extensions import db
from rj_scheduler.risk import queries
from rj_scheduler.risk.exceptions import (
    AnswersInvalid,
    AssessmentLocked,
    AssessmentStartRefused,
    LevelInvalid,
    MitigationInvalid,
    SettingsInvalid,
    SignOffRefused,
    SubmissionRefused,
)
from rj_scheduler.risk.levels import LEVEL_VALUES, RiskLevel, indicative_level
from rj_scheduler.risk.lifecycle import Event, approval_event, next_status, refusal
from rj_scheduler.risk.models import (
    Assessment,
    AssessmentEditor,
    AssessmentKind,
    AssessmentNotice,
    AssessmentStatus,
    Decision,
    Mitigation,
    RiskSettings,
    SignOff,
)
from rj_scheduler.risk.questionnaires import (
    Questionnaire,
    QuestionnaireLibrary,
    default_library,
)
from rj_scheduler.risk.readiness import kinds_for, needs_manager

MAX_FREE_TEXT = 5000
MAX_RATIONALE = 5000
MAX_COMMENTS = 5000


def questionnaire_of(assessment: Assessment, library: QuestionnaireLibrary | None = None) -> Questionnaire:
    """The questionnaire version this assessment was started with (even if a newer one exists)."""
    return (library or default_library()).get(assessment.questionnaire_id, assessment.questionnaire_version)


def _audit(action: str, assessment: Assessment, actor: User | None, outcome: str = "ok", **details: object):
    audit.record(
        action,
        object_type="assessment",
        object_id=assessment.public_id,
        service_id=assessment.service_id,
        actor_user_id=actor.id if actor is not None else None,
        outcome=outcome,
        details={
            "case": assessment.case.reference,
            "party": assessment.party.public_id,
            "kind": assessment.kind,
            "version": assessment.version_number,
            **details,
        },
    )


def _what(assessment: Assessment) -> str:
    if assessment.party.role == "supporter":
        return "supporter risk check"
    return assessment.kind_label.lower()


def _timeline(assessment: Assessment, kind: str, summary: str, actor: User | None, at: dt.datetime) -> None:
    add_timeline_event(assessment.case, kind, summary, actor=actor, at=at, party=assessment.party)


def _note_editor(assessment: Assessment, actor: User, at: dt.datetime) -> None:
    if actor.id not in {e.user_id for e in assessment.editors}:
        assessment.editors.append(AssessmentEditor(user_id=actor.id, first_edited_at=at))


def _lock(assessment: Assessment) -> None:
    """Re-read the assessment's row and hold it until commit, so two decisions on it cannot interleave.

    PostgreSQL takes a row lock (SELECT ... FOR UPDATE); SQLite already holds the
    database's write lock for the whole transaction (see ``rj_scheduler.db``).
    """
    if assessment.id is not None:
        db.session.execute(select(Assessment.id).where(Assessment.id == assessment.id).with_for_update())
        db.session.refresh(assessment)


def _ensure_editable(assessment: Assessment, actor: User, action: str) -> None:
    reason = refusal(assessment.status, Event.EDIT)
    if reason:
        _audit(f"{action}_refused", assessment, actor, outcome="refused", reason=assessment.status)
        if assessment.status == AssessmentStatus.APPROVED:
            reason += " Start a new version to change it; it will need sign-off again."
        raise AssessmentLocked([reason])


def _touch(assessment: Assessment, actor: User, at: dt.datetime) -> None:
    """An edit: a returned assessment goes back to draft; the editor may no longer sign it off."""
    assessment.status = next_status(assessment.status, Event.EDIT).value  # type: ignore[union-attr]
    assessment.updated_at = at
    _note_editor(assessment, actor, at)


# --- starting ------------------------------------------------------------------------------------


def start_assessment(
    party: Party,
    kind: str,
    *,
    actor: User,
    at: dt.datetime,
    library: QuestionnaireLibrary | None = None,
) -> Assessment:
    """Start a party's assessment of ``kind`` with the newest questionnaire, or return the one in progress."""
    library = library or default_library()
    if kind not in {k.value for k in AssessmentKind} or kind not in (
        library.kinds_for(party.role) if party.role in ("victim", "offender", "supporter") else []
    ):
        raise AssessmentStartRefused([f"A {party.role_label.lower()} does not have a {kind} assessment."])
    existing = queries.live_assessment(db.session, party, kind)
    if existing is not None:
        return existing
    questionnaire = library.newest(party.role, kind)
    assessment = Assessment(
        service_id=party.service_id,
        case_id=party.case_id,
        party_id=party.id,
        kind=kind,
        questionnaire_id=questionnaire.id,
        questionnaire_version=questionnaire.version,
        version_number=1,
        author_id=actor.id,
        status=AssessmentStatus.DRAFT.value,
        answers_json="{}",
        indicative_level=RiskLevel.LOW.value,
        indicative_score=0,
        created_at=at,
        updated_at=at,
    )
    assessment.case = party.case
    assessment.party = party
    db.session.add(assessment)
    db.session.flush()
    _note_editor(assessment, actor, at)
    db.session.flush()
    _timeline(
        assessment,
        "assessment_started",
        f"{_what(assessment).capitalize()} of {party.display_name} started.",
        actor,
        at,
    )
    _audit(
        "assessment.created", assessment, actor, questionnaire=f"{questionnaire.id}.v{questionnaire.version}"
    )
    return assessment


# --- answers, level, mitigations -------------------------------------------------------------------


def _clean_answer(
    questionnaire: Questionnaire, question_id: str, value: object
) -> tuple[str | None, str | None]:
    """(clean value or None for "no answer", error message or None)."""
    question = questionnaire.question(question_id)
    if question is None:
        return None, "This question is not part of the questionnaire"
    if value is None:
        return None, None
    text = str(value).strip()
    if not text:
        return None, None
    allowed = question.allowed_values()
    if allowed is None:
        if len(text) > MAX_FREE_TEXT:
            return None, f"The answer must be {MAX_FREE_TEXT} characters or fewer"
        return text, None
    if text not in allowed:
        return None, "Select an answer from the list"
    return text, None


def save_answers(
    assessment: Assessment,
    answers: dict[str, object],
    *,
    actor: User,
    at: dt.datetime,
    library: QuestionnaireLibrary | None = None,
) -> list[str]:
    """Save some answers of a draft or returned assessment (an empty answer clears it); all valid or none saved.

    Returns the ids of the questions whose answer changed. The indicative level
    is worked out again from all the answers.
    """
    _ensure_editable(assessment, actor, "assessment.answers_save")
    questionnaire = questionnaire_of(assessment, library)
    current = assessment.answers
    errors: dict[str, str] = {}
    updated = dict(current)
    for question_id, value in answers.items():
        clean, error = _clean_answer(questionnaire, question_id, value)
        if error:
            errors[question_id] = error
        elif clean is None:
            updated.pop(question_id, None)
        else:
            updated[question_id] = clean
    if errors:
        raise AnswersInvalid(errors)
    changed = sorted(k for k in set(current) | set(updated) if current.get(k) != updated.get(k))
    if not changed:
        return []
    assessment.answers_json = json.dumps(updated, sort_keys=True, ensure_ascii=False)
    result = indicative_level(questionnaire, updated)
    assessment.indicative_level = result.level.value
    assessment.indicative_score = result.score
    _touch(assessment, actor, at)
    db.session.flush()
    _audit("assessment.answers_saved", assessment, actor, questions=changed)
    return changed


def rationale_needed(assessment: Assessment, final_level: str | None) -> bool:
    return final_level is not None and final_level != assessment.indicative_level


def record_level(
    assessment: Assessment,
    *,
    final_level: str | None,
    rationale: str | None,
    suitable: bool | None,
    actor: User,
    at: dt.datetime,
) -> None:
    """Record the final risk level, the rationale (required when it differs from the indicative level)
    and, for a suitability assessment, whether the party is suitable."""
    _ensure_editable(assessment, actor, "assessment.level_save")
    errors: dict[str, str] = {}
    rationale = (rationale or "").strip() or None
    if final_level not in LEVEL_VALUES:
        errors["final_level"] = "Select the final risk level"
    elif rationale_needed(assessment, final_level) and not rationale:
        errors["rationale"] = (
            f"Explain why the final level is {final_level}, not the indicative level of {assessment.indicative_level}"
        )
    if rationale and len(rationale) > MAX_RATIONALE:
        errors["rationale"] = f"The rationale must be {MAX_RATIONALE} characters or fewer"
    if assessment.kind == AssessmentKind.SUITABILITY and suitable is None:
        errors["suitable"] = "Select whether they are suitable for a restorative meeting"
    if errors:
        raise LevelInvalid(errors)
    before = (assessment.final_level, assessment.level_rationale, assessment.suitable)
    assessment.final_level = final_level
    assessment.level_rationale = rationale
    assessment.suitable = suitable if assessment.kind == AssessmentKind.SUITABILITY else None
    if before == (assessment.final_level, assessment.level_rationale, assessment.suitable):
        return
    _touch(assessment, actor, at)
    db.session.flush()
    _audit(
        "assessment.level_recorded",
        assessment,
        actor,
        final_level=final_level,
        with_rationale=bool(rationale),
    )


def add_mitigation(
    assessment: Assessment,
    *,
    description: str,
    owner: str,
    before_conference: bool,
    actor: User,
    at: dt.datetime,
) -> Mitigation:
    """Plan a mitigation: what, who owns it, and whether it must be done before the conference."""
    _ensure_editable(assessment, actor, "assessment.mitigation_add")
    errors: dict[str, str] = {}
    description, owner = (description or "").strip(), (owner or "").strip()
    if not description:
        errors["description"] = "Describe the mitigation"
    elif len(description) > 2000:
        errors["description"] = "The mitigation must be 2000 characters or fewer"
    if not owner:
        errors["owner"] = "Enter who will make sure it happens"
    elif len(owner) > 200:
        errors["owner"] = "The owner must be 200 characters or fewer"
    if errors:
        raise MitigationInvalid(errors)
    mitigation = Mitigation(
        service_id=assessment.service_id,
        description=description,
        owner=owner,
        before_conference=bool(before_conference),
        created_at=at,
    )
    assessment.mitigations.append(mitigation)
    _touch(assessment, actor, at)
    db.session.flush()
    _audit("assessment.mitigation_added", assessment, actor, mitigation=mitigation.public_id)
    return mitigation


def remove_mitigation(mitigation: Mitigation, *, actor: User, at: dt.datetime) -> None:
    """Remove a planned mitigation from a draft or returned assessment."""
    assessment = mitigation.assessment
    _ensure_editable(assessment, actor, "assessment.mitigation_remove")
    assessment.mitigations.remove(mitigation)
    _touch(assessment, actor, at)
    db.session.flush()
    _audit("assessment.mitigation_removed", assessment, actor, mitigation=mitigation.public_id)


def mark_mitigation_done(mitigation: Mitigation, *, done: bool, actor: User, at: dt.datetime) -> None:
    """Mark a mitigation done (or not done). This is progress, not a change: no new sign-off is needed."""
    assessment = mitigation.assessment
    if assessment.status == AssessmentStatus.SUPERSEDED:
        raise AssessmentLocked(
            ["This version has been replaced: update the mitigation on the newest version."]
        )
    if mitigation.done == done:
        return
    mitigation.done = done
    mitigation.done_at = at if done else None
    mitigation.done_by_id = actor.id if done else None
    db.session.flush()
    verb = "done" if done else "not done"
    _timeline(
        assessment,
        "mitigation_done" if done else "mitigation_undone",
        f"Mitigation for {assessment.party.display_name} marked {verb}: {mitigation.description}",
        actor,
        at,
    )
    _audit("assessment.mitigation_marked", assessment, actor, mitigation=mitigation.public_id, done=done)
    apply_derived_state(assessment.case, actor=actor, at=at)


# --- submission ----------------------------------------------------------------------------------


def missing_for_submission(
    assessment: Assessment, library: QuestionnaireLibrary | None = None
) -> list[tuple[str, str]]:
    """Each thing missing before the assessment can be submitted, as (field or question id, message)."""
    questionnaire = questionnaire_of(assessment, library)
    answers = assessment.answers
    missing = [
        (q.id, f"Answer “{q.text}”") for q in questionnaire.questions if q.required and not answers.get(q.id)
    ]
    if assessment.final_level is None:
        missing.append(("final_level", "Record the final risk level"))
    elif rationale_needed(assessment, assessment.final_level) and not assessment.level_rationale:
        missing.append(
            (
                "rationale",
                f"Explain why the final level is {assessment.final_level}, not the indicative level of "
                f"{assessment.indicative_level}",
            )
        )
    if assessment.kind == AssessmentKind.SUITABILITY and assessment.suitable is None:
        missing.append(("suitable", "Record whether they are suitable for a restorative meeting"))
    return missing


def submit(
    assessment: Assessment, *, actor: User, at: dt.datetime, library: QuestionnaireLibrary | None = None
) -> None:
    """Submit a complete draft (every required answer present) for sign-off."""
    _lock(assessment)
    reason = refusal(assessment.status, Event.SUBMIT)
    if reason:
        _audit("assessment.submit_refused", assessment, actor, outcome="refused", reason=assessment.status)
        raise SubmissionRefused([reason])
    missing = missing_for_submission(assessment, library)
    if missing:
        _audit(
            "assessment.submit_refused", assessment, actor, outcome="refused", missing=[k for k, _ in missing]
        )
        raise SubmissionRefused([message + "." for _, message in missing], missing)
    assessment.status = next_status(assessment.status, Event.SUBMIT).value  # type: ignore[union-attr]
    assessment.submitted_at = at
    assessment.submitted_by_id = actor.id
    assessment.needs_manager = needs_manager(assessment, assessment.case)
    assessment.updated_at = at
    _note_editor(assessment, actor, at)
    db.session.flush()
    _timeline(
        assessment,
        "assessment_submitted",
        f"{_what(assessment).capitalize()} of {assessment.party.display_name} submitted for sign-off"
        f" (final level {assessment.final_level}).",
        actor,
        at,
    )
    _audit("assessment.submitted", assessment, actor, final_level=assessment.final_level)


# --- sign-off ------------------------------------------------------------------------------------


def _notify_author(
    assessment: Assessment, kind: str, message: str, at: dt.datetime, *, decided_by: User
) -> None:
    """Tell the author of a decision: a notice on their dashboard and an email through the outbox.

    The email names the case reference only, never the party: it leaves the building.
    """
    from flask import current_app

    from rj_scheduler.notify.services import send_staff_email

    send_staff_email(
        assessment.author,
        "staff_sign_off_decision",
        {
            "case_reference": assessment.case.reference,
            "decision": "returned with comments" if kind == "returned" else "signed off",
            "decided_by": decided_by.full_name,
            "link": f"{current_app.config['RJ_PUBLIC_URL']}/cases/{assessment.case.reference}",
        },
        idempotency_key=f"risk:{kind}:{assessment.public_id}:{at.isoformat()}",
        case_id=assessment.case_id,
    )
    db.session.add(
        AssessmentNotice(
            service_id=assessment.service_id,
            user_id=assessment.author_id,
            assessment_id=assessment.id,
            kind=kind,
            message=message,
            created_at=at,
        )
    )


def sign_off_refusals(
    assessment: Assessment,
    decision: str,
    *,
    actor: User,
    comments: str | None,
    seen_content_hash: str | None,
    seen_version_number: int | None,
) -> list[str]:
    """Why ``actor`` may not make this decision on this assessment now (empty: they may)."""
    reasons: list[str] = []
    if decision not in {d.value for d in Decision}:
        return ["Choose whether to approve the assessment or return it."]
    if not actor.is_supervisor or actor.service_id != assessment.service_id:
        return ["Only a supervisor or a manager of this service can sign off an assessment."]
    if actor.id in assessment.editor_ids:
        reasons.append(
            "You wrote this assessment (or part of it), so you cannot sign it off: another supervisor or"
            " manager must."
        )
    waiting = (AssessmentStatus.SUBMITTED.value, AssessmentStatus.AWAITING_MANAGER.value)
    if assessment.status not in waiting:
        reasons.append(
            f"This assessment is not waiting for sign-off: it is {assessment.status_label.lower()}."
        )
    elif seen_content_hash != assessment.content_hash or seen_version_number != assessment.version_number:
        reasons.append(
            "The assessment changed after you opened it. Read the current version before you decide."
        )
    if (
        decision == Decision.APPROVED
        and assessment.status == AssessmentStatus.AWAITING_MANAGER
        and not actor.is_manager
    ):
        reasons.append(
            "A supervisor has already approved it; it now needs a manager's approval (high risk or a"
            " sensitive case)."
        )
    if decision == Decision.RETURNED and not (comments or "").strip():
        reasons.append("Write comments for the author saying what needs to change.")
    if comments and len(comments) > MAX_COMMENTS:
        reasons.append(f"Comments must be {MAX_COMMENTS} characters or fewer.")
    return reasons


def decide(
    assessment: Assessment,
    decision: str,
    *,
    actor: User,
    at: dt.datetime,
    comments: str | None,
    seen_content_hash: str | None,
    seen_version_number: int | None,
) -> SignOff:
    """Approve or return an assessment (four eyes: never by anyone who wrote it).

    A high final level or a sensitive case needs a manager's approval: a
    supervisor's approval then leaves it waiting for a manager. A decision on
    content other than what the reviewer saw (a stale form) is refused.
    """
    comments = (comments or "").strip() or None
    _lock(assessment)
    reasons = sign_off_refusals(
        assessment,
        decision,
        actor=actor,
        comments=comments,
        seen_content_hash=seen_content_hash,
        seen_version_number=seen_version_number,
    )
    if reasons:
        _audit("assessment.sign_off_refused", assessment, actor, outcome="refused", decision=decision)
        raise SignOffRefused(reasons)
    assessment.needs_manager = needs_manager(assessment, assessment.case)
    sign_off = SignOff(
        service_id=assessment.service_id,
        assessment_id=assessment.id,
        author_id=assessment.author_id,
        signed_off_by_id=actor.id,
        decision=decision,
        role_at_time=Role.MANAGER.value if actor.is_manager else Role.SUPERVISOR.value,
        decided_at=at,
        comments=comments,
        content_hash=assessment.content_hash,
        assessment_version_number=assessment.version_number,
    )
    assessment.sign_offs.append(sign_off)
    who = assessment.party.display_name
    what = _what(assessment)
    if decision == Decision.RETURNED:
        assessment.status = next_status(assessment.status, Event.RETURN).value  # type: ignore[union-attr]
        _notify_author(
            assessment, "returned", f"Your {what} of {who} was returned with comments.", at, decided_by=actor
        )
        summary = f"{what.capitalize()} of {who} returned to the author with comments."
        action = "assessment.returned"
    else:
        event = approval_event(assessment.status, assessment.needs_manager, actor.is_manager)
        assessment.status = next_status(assessment.status, event).value  # type: ignore[union-attr]
        if assessment.status == AssessmentStatus.APPROVED:
            assessment.approved_at = at
            _notify_author(
                assessment, "approved", f"Your {what} of {who} was approved.", at, decided_by=actor
            )
            summary = f"{what.capitalize()} of {who} approved by a {sign_off.role_at_time}."
        else:
            summary = (
                f"{what.capitalize()} of {who} approved by a supervisor; it now needs a manager's approval."
            )
        action = "assessment.approved"
    db.session.flush()
    _timeline(assessment, f"assessment_{decision}", summary, actor, at)
    _audit(action, assessment, actor, role=sign_off.role_at_time, status=assessment.status)
    apply_derived_state(assessment.case, actor=actor, at=at)
    return sign_off


# --- changing an approved assessment ---------------------------------------------------------------


def start_new_version(assessment: Assessment, *, actor: User, at: dt.datetime) -> Assessment:
    """Change an approved assessment: it is replaced (its approval stays in history but no longer counts)
    by a new draft version with the same answers, which needs sign-off again."""
    _lock(assessment)
    reason = refusal(assessment.status, Event.SUPERSEDE)
    if reason:
        _audit(
            "assessment.new_version_refused", assessment, actor, outcome="refused", reason=assessment.status
        )
        raise AssessmentLocked([reason])
    assessment.status = next_status(assessment.status, Event.SUPERSEDE).value  # type: ignore[union-attr]
    assessment.superseded_at = at
    db.session.flush()  # the old row leaves the "one live assessment" index before the new one enters
    new = Assessment(
        service_id=assessment.service_id,
        case_id=assessment.case_id,
        party_id=assessment.party_id,
        kind=assessment.kind,
        questionnaire_id=assessment.questionnaire_id,
        questionnaire_version=assessment.questionnaire_version,
        version_number=assessment.version_number + 1,
        previous_id=assessment.id,
        author_id=actor.id,
        status=AssessmentStatus.DRAFT.value,
        answers_json=assessment.answers_json,
        indicative_level=assessment.indicative_level,
        indicative_score=assessment.indicative_score,
        final_level=assessment.final_level,
        level_rationale=assessment.level_rationale,
        suitable=assessment.suitable,
        created_at=at,
        updated_at=at,
    )
    new.case, new.party = assessment.case, assessment.party
    for old in assessment.mitigations:
        new.mitigations.append(
            Mitigation(
                service_id=old.service_id,
                description=old.description,
                owner=old.owner,
                before_conference=old.before_conference,
                done=old.done,
                done_at=old.done_at,
                done_by_id=old.done_by_id,
                created_at=at,
            )
        )
    db.session.add(new)
    db.session.flush()
    # The new version carries the earlier writers' words: none of them may sign it off either.
    for user_id in sorted(assessment.editor_ids | {actor.id}):
        new.editors.append(AssessmentEditor(user_id=user_id, first_edited_at=at))
    db.session.flush()
    _timeline(
        new,
        "assessment_reopened",
        f"Approved {_what(new)} of {new.party.display_name} reopened for changes (version"
        f" {new.version_number}); it needs sign-off again.",
        actor,
        at,
    )
    _audit("assessment.new_version", new, actor, previous=assessment.public_id)
    apply_derived_state(new.case, actor=actor, at=at)
    return new


# --- notices and settings ----------------------------------------------------------------------------


def mark_notices_read(notices: list[AssessmentNotice], *, actor: User, at: dt.datetime) -> None:
    for notice in notices:
        if notice.user_id == actor.id and notice.read_at is None:
            notice.read_at = at
    db.session.flush()


def update_settings(
    service: Service, *, approval_valid_days: object, actor: User, at: dt.datetime
) -> RiskSettings:
    """Set how many days a sign-off stays valid in this service (1 to 730)."""
    try:
        days = int(str(approval_valid_days).strip())
    except (TypeError, ValueError):
        raise SettingsInvalid({"approval_valid_days": "Enter the number of days as a whole number"}) from None
    if not 1 <= days <= 730:
        raise SettingsInvalid({"approval_valid_days": "Enter a number of days from 1 to 730"})
    settings = queries.risk_settings(db.session, service.id)
    if settings is None:
        settings = RiskSettings(service_id=service.id)
        db.session.add(settings)
    previous = settings.approval_valid_days
    settings.approval_valid_days = days
    settings.updated_at = at
    settings.updated_by_id = actor.id
    db.session.flush()
    audit.record(
        "risk_settings.updated",
        object_type="service",
        object_id=service.public_id,
        service_id=service.id,
        actor_user_id=actor.id,
        details={"approval_valid_days": days, "previous": previous},
    )
    return settings


def required_kinds(party: Party) -> list[str]:
    return kinds_for(party)
