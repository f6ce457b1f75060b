"""The assessment pages: start and continue, questionnaire pages, level, mitigations, submit,
the sign-off queue and review, the printable summary, and the risk settings.

Every assessment is looked up within the signed-in user's service (another
service's answers 404). Every page that shows an assessment records an audit
entry; forms re-rendered with errors answer 400 so nothing half-done is saved.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import Form

from rj_scheduler.audit import services as audit
from rj_scheduler.auth.models import User
from rj_scheduler.auth.policy import Permission, can, requires
from rj_scheduler.cases import queries as case_queries
from rj_scheduler.cases.models import Case, Party
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from rj_scheduler.risk import queries, services
from rj_scheduler.risk import readiness as risk_readiness
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
from rj_scheduler.risk.forms import (
    ConfirmForm,
    LevelForm,
    MitigationForm,
    ReviewForm,
    RiskSettingsForm,
    SuitabilityLevelForm,
    field_name,
    inline_radios,
    page_form,
)
from rj_scheduler.risk.levels import HIGH_AT, MEDIUM_AT, indicative_level
from rj_scheduler.risk.models import Assessment, AssessmentKind, AssessmentStatus
from rj_scheduler.templating import add_nav_item

bp = Blueprint("risk", __name__)

add_nav_item("Sign-off", "risk.queue", Permission.SIGN_OFF_ASSESSMENT)
add_nav_item("Risk settings", "risk.settings", Permission.MANAGE_RISK_SETTINGS)


# --- template helpers (the case page, the party panel and the dashboard include these) ----------


@bp.app_context_processor
def _helpers() -> dict[str, object]:
    def party_assessments(party: Party) -> list[dict[str, object]]:
        rows = []
        for kind in risk_readiness.kinds_for(party):
            assessment = queries.live_assessment(db.session, party, kind)
            rows.append({"kind": kind, "label": _kind_label(kind, party), "assessment": assessment})
        return rows

    def unread_assessment_notices() -> list[object]:
        if not current_user.is_authenticated:
            return []
        return queries.unread_notices(db.session, current_user)

    return {
        "risk_party_assessments": party_assessments,
        "risk_unread_notices": unread_assessment_notices,
    }


def _kind_label(kind: str, party: Party) -> str:
    if party.role == "supporter":
        return "Supporter risk check"
    return AssessmentKind(kind).label


# --- lookups ---------------------------------------------------------------------------------------


def _load_party(case_ref: str, party_public_id: str) -> tuple[Case, Party]:
    case = case_queries.case_by_reference(db.session, current_user.service_id, case_ref)
    if case is None:
        abort(404)
    party = case_queries.party_in_case(case, party_public_id)
    if party is None:
        abort(404)
    return case, party


def _load(assessment_public_id: str) -> Assessment:
    assessment = queries.assessment_by_public_id(db.session, current_user.service_id, assessment_public_id)
    if assessment is None:
        abort(404)
    return assessment


def _viewed(assessment: Assessment, page: str) -> None:
    audit.record(
        "assessment.viewed",
        object_type="assessment",
        object_id=assessment.public_id,
        service_id=assessment.service_id,
        details={"case": assessment.case.reference, "page": page},
    )


def _apply_errors(form: Form, errors: dict[str, str], rename=None) -> None:
    first = next(iter(form))
    for key, message in errors.items():
        name = rename(key) if rename else key
        field = form._fields.get(name)
        target = field if field is not None else first
        if not isinstance(target.errors, list):
            target.errors = list(target.errors)
        target.errors.append(message)


def _editable_or_redirect(assessment: Assessment):
    if not assessment.editable:
        flash(
            f"This assessment is {assessment.status_label.lower()} and cannot be changed here.",
            "important",
        )
        return redirect(url_for("risk.assessment", assessment_public_id=assessment.public_id))
    return None


# --- a party's assessments -------------------------------------------------------------------------


@bp.route("/cases/<case_ref>/parties/<party_public_id>/assessments", methods=["GET", "POST"])
@requires(Permission.VIEW_CASE)
def party_assessments(case_ref: str, party_public_id: str):
    """A party's assessments: start one, or continue the one in progress."""
    case, party = _load_party(case_ref, party_public_id)
    form = ConfirmForm()
    if request.method == "POST":
        if not can(current_user, Permission.EDIT_ASSESSMENT, case):
            abort(403)
        kind = request.form.get("kind", "")
        if form.validate_on_submit():
            try:
                assessment = services.start_assessment(party, kind, actor=current_user, at=now())
            except AssessmentStartRefused as refused:
                flash(" ".join(refused.reasons), "important")
                return redirect(
                    url_for(
                        "risk.party_assessments", case_ref=case.reference, party_public_id=party.public_id
                    )
                ), 303
            first_page = services.questionnaire_of(assessment).pages[0].id
            return redirect(
                url_for("risk.questions", assessment_public_id=assessment.public_id, page_id=first_page)
            )
        abort(400)
    audit.record(
        "party.assessments_viewed",
        object_type="party",
        object_id=party.public_id,
        service_id=case.service_id,
        details={"case": case.reference},
    )
    rows = []
    for kind in risk_readiness.kinds_for(party):
        assessment = queries.live_assessment(db.session, party, kind)
        rows.append({"kind": kind, "label": _kind_label(kind, party), "assessment": assessment})
    return render_template("risk/party_assessments.html", case=case, party=party, rows=rows, start_form=form)


# --- one assessment --------------------------------------------------------------------------------


def _answer_rows(assessment: Assessment) -> list[dict[str, object]]:
    questionnaire = services.questionnaire_of(assessment)
    answers = assessment.answers
    pages = []
    for page in questionnaire.pages:
        pages.append(
            {
                "page": page,
                "rows": [
                    {"question": q, "answer": q.answer_label(answers.get(q.id)), "raw": answers.get(q.id)}
                    for q in page.questions
                ],
            }
        )
    return pages


def _context(assessment: Assessment) -> dict[str, object]:
    questionnaire = services.questionnaire_of(assessment)
    valid_days = queries.approval_valid_days(db.session, assessment.service_id)
    result = indicative_level(questionnaire, assessment.answers)
    return {
        "assessment": assessment,
        "case": assessment.case,
        "party": assessment.party,
        "questionnaire": questionnaire,
        "answer_pages": _answer_rows(assessment),
        "indicative": result,
        "kind_label": _kind_label(assessment.kind, assessment.party),
        "valid_days": valid_days,
        "expires_at": risk_readiness.expires_at(assessment, valid_days),
        "problems": risk_readiness.assessment_problems(
            assessment, assessment.party, assessment.kind, at=now(), valid_days=valid_days
        )
        if assessment.status == AssessmentStatus.APPROVED
        else [],
        "versions": queries.versions(db.session, assessment),
        "can_edit": can(current_user, Permission.EDIT_ASSESSMENT, assessment.case),
        "can_sign_off": can(current_user, Permission.SIGN_OFF_ASSESSMENT, assessment.case)
        and current_user.id not in assessment.editor_ids,
        "medium_at": MEDIUM_AT,
        "high_at": HIGH_AT,
    }


@bp.get("/assessments/<assessment_public_id>")
@requires(Permission.VIEW_CASE)
def assessment(assessment_public_id: str):
    """An assessment: its answers, levels, mitigations, sign-offs and versions, and what can be done next."""
    assessment = _load(assessment_public_id)
    _viewed(assessment, "summary")
    notices = [
        n for n in queries.unread_notices(db.session, current_user) if n.assessment_id == assessment.id
    ]
    services.mark_notices_read(notices, actor=current_user, at=now())
    return render_template("risk/assessment.html", action_form=ConfirmForm(), **_context(assessment))


@bp.route("/assessments/<assessment_public_id>/questions/<page_id>", methods=["GET", "POST"])
@requires(Permission.EDIT_ASSESSMENT)
def questions(assessment_public_id: str, page_id: str):
    """One page of the questionnaire (rendered from its data); "Save and continue" saves this page's answers."""
    assessment = _load(assessment_public_id)
    questionnaire = services.questionnaire_of(assessment)
    page = questionnaire.page(page_id)
    if page is None:
        abort(404)
    blocked = _editable_or_redirect(assessment)
    if blocked:
        return blocked
    if request.method == "GET":
        _viewed(assessment, f"questions:{page.id}")
        form = page_form(page, assessment.answers)
        return _render_page(assessment, questionnaire, page, form)
    form = page_form(page, assessment.answers, formdata=request.form)
    if form.validate_on_submit():
        answers = {q.id: form[field_name(q.id)].data for q in page.questions}
        try:
            services.save_answers(assessment, answers, actor=current_user, at=now())
        except AnswersInvalid as refused:
            _apply_errors(form, refused.errors, rename=field_name)
        else:
            following = questionnaire.next_page(page.id)
            if following is not None:
                target = url_for(
                    "risk.questions", assessment_public_id=assessment.public_id, page_id=following.id
                )
            else:
                target = url_for("risk.level", assessment_public_id=assessment.public_id)
            return redirect(target)
    return _render_page(assessment, questionnaire, page, form), 400


def _render_page(assessment, questionnaire, page, form):
    index = [p.id for p in questionnaire.pages].index(page.id)
    return render_template(
        "risk/questions.html",
        assessment=assessment,
        case=assessment.case,
        party=assessment.party,
        questionnaire=questionnaire,
        page=page,
        step=index + 1,
        steps=len(questionnaire.pages) + 2,
        form=form,
        fields=[(q, form[field_name(q.id)], inline_radios(q)) for q in page.questions],
        kind_label=_kind_label(assessment.kind, assessment.party),
    )


@bp.route("/assessments/<assessment_public_id>/level", methods=["GET", "POST"])
@requires(Permission.EDIT_ASSESSMENT)
def level(assessment_public_id: str):
    """The final risk level, with a rationale when it differs from the indicative level."""
    assessment = _load(assessment_public_id)
    blocked = _editable_or_redirect(assessment)
    if blocked:
        return blocked
    form_class = SuitabilityLevelForm if assessment.kind == AssessmentKind.SUITABILITY else LevelForm
    if request.method == "GET":
        _viewed(assessment, "level")
        data = {"final_level": assessment.final_level, "rationale": assessment.level_rationale}
        if assessment.kind == AssessmentKind.SUITABILITY and assessment.suitable is not None:
            data["suitable"] = "yes" if assessment.suitable else "no"
        form = form_class(data=data)
        return _render_level(assessment, form)
    form = form_class()
    if form.validate_on_submit():
        suitable = None
        if assessment.kind == AssessmentKind.SUITABILITY:
            suitable = form.suitable.data == "yes"
        try:
            services.record_level(
                assessment,
                final_level=form.final_level.data,
                rationale=form.rationale.data,
                suitable=suitable,
                actor=current_user,
                at=now(),
            )
        except LevelInvalid as refused:
            _apply_errors(form, refused.errors)
        else:
            return redirect(url_for("risk.mitigations", assessment_public_id=assessment.public_id))
    return _render_level(assessment, form), 400


def _render_level(assessment: Assessment, form):
    context = _context(assessment)
    return render_template("risk/level.html", form=form, **context)


@bp.route("/assessments/<assessment_public_id>/mitigations", methods=["GET", "POST"])
@requires(Permission.EDIT_ASSESSMENT)
def mitigations(assessment_public_id: str):
    """The mitigations planned: add one (owner, before the conference or not); then continue to submit."""
    assessment = _load(assessment_public_id)
    if request.method == "GET":
        _viewed(assessment, "mitigations")
        return render_template(
            "risk/mitigations.html", form=MitigationForm(), action_form=ConfirmForm(), **_context(assessment)
        )
    blocked = _editable_or_redirect(assessment)
    if blocked:
        return blocked
    form = MitigationForm()
    if form.validate_on_submit():
        try:
            services.add_mitigation(
                assessment,
                description=form.description.data,
                owner=form.owner.data,
                before_conference=form.before_conference.data == "yes",
                actor=current_user,
                at=now(),
            )
        except MitigationInvalid as refused:
            _apply_errors(form, refused.errors)
        else:
            flash("Mitigation added.", "success")
            return redirect(url_for("risk.mitigations", assessment_public_id=assessment.public_id))
    return render_template(
        "risk/mitigations.html", form=form, action_form=ConfirmForm(), **_context(assessment)
    ), 400


@bp.post("/assessments/<assessment_public_id>/mitigations/<mitigation_public_id>/remove")
@requires(Permission.EDIT_ASSESSMENT)
def remove_mitigation(assessment_public_id: str, mitigation_public_id: str):
    assessment = _load(assessment_public_id)
    mitigation = queries.mitigation_by_public_id(db.session, assessment, mitigation_public_id)
    if mitigation is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.remove_mitigation(mitigation, actor=current_user, at=now())
    except AssessmentLocked as refused:
        flash(" ".join(refused.reasons), "important")
        return redirect(url_for("risk.assessment", assessment_public_id=assessment.public_id)), 303
    flash("Mitigation removed.", "success")
    return redirect(url_for("risk.mitigations", assessment_public_id=assessment.public_id))


@bp.post("/assessments/<assessment_public_id>/mitigations/<mitigation_public_id>/done")
@requires(Permission.EDIT_ASSESSMENT)
def mitigation_done(assessment_public_id: str, mitigation_public_id: str):
    """Mark a mitigation done or not done (progress, not a change: no new sign-off needed)."""
    assessment = _load(assessment_public_id)
    mitigation = queries.mitigation_by_public_id(db.session, assessment, mitigation_public_id)
    if mitigation is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    done = request.form.get("done") == "yes"
    try:
        services.mark_mitigation_done(mitigation, done=done, actor=current_user, at=now())
    except AssessmentLocked as refused:
        flash(" ".join(refused.reasons), "important")
        return redirect(url_for("risk.assessment", assessment_public_id=assessment.public_id)), 303
    flash("Mitigation marked done." if done else "Mitigation marked not done.", "success")
    return redirect(url_for("risk.assessment", assessment_public_id=assessment.public_id))


# --- submit, change ----------------------------------------------------------------------------------


def _missing_links(assessment: Assessment, missing: list[tuple[str, str]]) -> list[dict[str, str]]:
    questionnaire = services.questionnaire_of(assessment)
    items = []
    for key, message in missing:
        page = questionnaire.page_of(key)
        if page is not None:
            href = (
                url_for("risk.questions", assessment_public_id=assessment.public_id, page_id=page.id)
                + "#"
                + field_name(key)
            )
        else:
            href = url_for("risk.level", assessment_public_id=assessment.public_id) + "#" + key
        items.append({"text": message, "href": href})
    return items


@bp.route("/assessments/<assessment_public_id>/submit", methods=["GET", "POST"])
@requires(Permission.EDIT_ASSESSMENT)
def submit(assessment_public_id: str):
    """Check the answers and submit for sign-off; each missing required answer is listed."""
    assessment = _load(assessment_public_id)
    blocked = _editable_or_redirect(assessment)
    if blocked:
        return blocked
    form = ConfirmForm()
    if request.method == "GET":
        _viewed(assessment, "submit")
        missing = services.missing_for_submission(assessment)
        return render_template(
            "risk/submit.html",
            action_form=form,
            missing=_missing_links(assessment, missing),
            refused=False,
            **_context(assessment),
        )
    if not form.validate_on_submit():
        abort(400)
    try:
        services.submit(assessment, actor=current_user, at=now())
    except SubmissionRefused as refused:
        items = (
            _missing_links(assessment, refused.missing)
            if refused.missing
            else [{"text": r, "href": "#main-content"} for r in refused.reasons]
        )
        return render_template(
            "risk/submit.html", action_form=form, missing=items, refused=True, **_context(assessment)
        ), 400
    flash("Submitted for sign-off. A supervisor will review it.", "success")
    return redirect(url_for("risk.assessment", assessment_public_id=assessment.public_id))


@bp.post("/assessments/<assessment_public_id>/new-version")
@requires(Permission.EDIT_ASSESSMENT)
def new_version(assessment_public_id: str):
    """Change an approved assessment: a new draft version that needs sign-off again."""
    assessment = _load(assessment_public_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        new = services.start_new_version(assessment, actor=current_user, at=now())
    except AssessmentLocked as refused:
        flash(" ".join(refused.reasons), "important")
        return redirect(url_for("risk.assessment", assessment_public_id=assessment.public_id)), 303
    flash(
        f"Version {new.version_number} started. The previous approval no longer counts: this version needs sign-off.",
        "success",
    )
    first_page = services.questionnaire_of(new).pages[0].id
    return redirect(url_for("risk.questions", assessment_public_id=new.public_id, page_id=first_page))


# --- sign-off --------------------------------------------------------------------------------------


@bp.get("/sign-off")
@requires(Permission.SIGN_OFF_ASSESSMENT)
def queue():
    """Assessments waiting for sign-off (highest risk, then longest waiting, first); managers also see
    those waiting for a manager."""
    at = now()
    waiting = queries.sign_off_queue(
        db.session, current_user.service_id, [AssessmentStatus.SUBMITTED.value], at
    )
    for_manager = queries.sign_off_queue(
        db.session, current_user.service_id, [AssessmentStatus.AWAITING_MANAGER.value], at
    )
    audit.record(
        "sign_off_queue.viewed",
        object_type="sign_off_queue",
        service_id=current_user.service_id,
        details={"waiting": len(waiting), "for_manager": len(for_manager)},
    )
    return render_template(
        "risk/queue.html", waiting=waiting, for_manager=for_manager, is_manager=current_user.is_manager
    )


def _others(assessment: Assessment) -> list[dict[str, object]]:
    """The other parties' current assessments on the same case, for side-by-side review."""
    live = queries.live_assessments_for_case(db.session, assessment.case)
    rows = []
    for party in assessment.case.parties:
        for kind in risk_readiness.kinds_for(party):
            other = live.get((party.id, kind))
            if other is not None and other.id == assessment.id:
                continue
            rows.append(
                {
                    "party": party,
                    "label": _kind_label(kind, party),
                    "assessment": other,
                    "pages": _answer_rows(other) if other is not None else [],
                }
            )
    return rows


def _render_review(assessment: Assessment, form: ReviewForm, refusals: list[str] | None = None):
    context = _context(assessment)
    return render_template(
        "risk/review.html",
        form=form,
        refusals=refusals or [],
        others=_others(assessment),
        events=case_queries.timeline(db.session, assessment.case),
        own=current_user.id in assessment.editor_ids,
        **context,
    )


@bp.route("/assessments/<assessment_public_id>/review", methods=["GET", "POST"])
@requires(Permission.SIGN_OFF_ASSESSMENT)
def review(assessment_public_id: str):
    """Review beside the other parties' assessments, the sensitive flags and history; approve or return."""
    assessment = _load(assessment_public_id)
    if request.method == "GET":
        _viewed(assessment, "review")
        form = ReviewForm(
            data={"content_hash": assessment.content_hash, "version_number": str(assessment.version_number)}
        )
        return _render_review(assessment, form)
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            seen_version = int(form.version_number.data or 0)
        except ValueError:
            seen_version = 0
        try:
            services.decide(
                assessment,
                form.decision.data,
                actor=current_user,
                at=now(),
                comments=form.comments.data,
                seen_content_hash=form.content_hash.data,
                seen_version_number=seen_version,
            )
        except SignOffRefused as refused:
            form.decision.errors = list(form.decision.errors) + refused.reasons
            form.content_hash.data = assessment.content_hash
            form.version_number.data = str(assessment.version_number)
            return _render_review(assessment, form, refused.reasons), 400
        if assessment.status == AssessmentStatus.AWAITING_MANAGER:
            flash("Approved. It now needs a manager's approval (high risk or a sensitive case).", "success")
        elif assessment.status == AssessmentStatus.APPROVED:
            flash("Approved. The author has been told.", "success")
        else:
            flash("Returned to the author with your comments.", "success")
        return redirect(url_for("risk.queue"))
    form.content_hash.data = form.content_hash.data or assessment.content_hash
    return _render_review(assessment, form), 400


# --- printable summary -----------------------------------------------------------------------------


@bp.get("/assessments/<assessment_public_id>/print")
@requires(Permission.VIEW_CASE)
def print_summary(assessment_public_id: str):
    """A printable summary of the assessment for the case file."""
    assessment = _load(assessment_public_id)
    audit.record(
        "assessment.printed",
        object_type="assessment",
        object_id=assessment.public_id,
        service_id=assessment.service_id,
        details={"case": assessment.case.reference},
    )
    return render_template("risk/print.html", printed_at=now(), **_context(assessment))


# --- settings ----------------------------------------------------------------------------------------


@bp.route("/risk-settings", methods=["GET", "POST"])
@requires(Permission.MANAGE_RISK_SETTINGS)
def settings():
    """How long a sign-off stays valid in this service."""
    service = current_user.service
    days = queries.approval_valid_days(db.session, service.id)
    if request.method == "GET":
        audit.record(
            "risk_settings.viewed", object_type="service", object_id=service.public_id, service_id=service.id
        )
        return render_template(
            "risk/settings.html", form=RiskSettingsForm(data={"approval_valid_days": str(days)})
        )
    form = RiskSettingsForm()
    if form.validate_on_submit():
        try:
            services.update_settings(
                service, approval_valid_days=form.approval_valid_days.data, actor=current_user, at=now()
            )
        except SettingsInvalid as refused:
            _apply_errors(form, refused.errors)
        else:
            flash("Risk settings saved.", "success")
            return redirect(url_for("risk.settings"))
    return render_template("risk/settings.html", form=form), 400


def _user_name(user: User | None) -> str:
    return user.full_name if user else "the system"
