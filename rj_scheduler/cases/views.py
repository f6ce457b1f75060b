"""The cases pages: referral form, case page, party panels, consent, contact, state, team list.

Every case is looked up within the signed-in user's service, so another
service's case answers 404. Every page that shows case data records an audit
entry. Forms re-rendered with errors answer 400 so nothing half-done is saved.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import Form

from rj_scheduler.audit import services as audit
from rj_scheduler.auth.policy import Permission, can, requires
from rj_scheduler.cases import queries, services
from rj_scheduler.cases.consent import consent_statuses, current_consent
from rj_scheduler.cases.exceptions import (
    ConsentInvalid,
    ContactInvalid,
    NoteInvalid,
    PartyInvalid,
    ReassignRefused,
    ReferralInvalid,
    TransitionRefused,
    TriageRefused,
)
from rj_scheduler.cases.forms import (
    LANGUAGE_NAMES,
    ConfirmForm,
    ConsentForm,
    ContactPreferencesForm,
    EqualityForm,
    FirstContactForm,
    NoteForm,
    PartyForm,
    ReassignForm,
    ReferralForm,
    ReofferForm,
    StateForm,
    as_choices,
)
from rj_scheduler.cases.models import (
    AgeBand,
    Case,
    CaseState,
    ClosureReason,
    ConsentMethod,
    ContactMethod,
    JusticeStage,
    OffenceCategory,
    Party,
    PartyRole,
    ReferralSource,
    Wording,
)
from rj_scheduler.cases.readiness import readiness
from rj_scheduler.cases.states import ALLOWED
from rj_scheduler.cases.validation import format_mobile
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from rj_scheduler.templating import add_nav_item

bp = Blueprint("cases", __name__, url_prefix="/cases")
LONDON = ZoneInfo("Europe/London")
PER_PAGE = 25


def _record_party_viewed(case: Case, party: Party) -> None:
    """Audit that a page showing this party's details was opened."""
    audit.record(
        "party.viewed",
        object_type="party",
        object_id=party.public_id,
        service_id=case.service_id,
        details={"case": case.reference},
    )


def _back_to_party(case: Case, party: Party):
    return redirect(url_for("cases.party_page", case_ref=case.reference, party_public_id=party.public_id))


@bp.app_template_filter("mobile")
def _mobile_filter(e164: str | None) -> str:
    return format_mobile(e164)


@bp.app_context_processor
def _labels() -> dict[str, object]:
    return {
        "case_labels": {
            "state": CaseState.label_of,
            "source": ReferralSource.label_of,
            "offence": OffenceCategory.label_of,
            "stage": JusticeStage.label_of,
            "closure": ClosureReason.label_of,
            "role": PartyRole.label_of,
            "method": ConsentMethod.label_of,
            "contact_method": ContactMethod.label_of,
            "age_band": AgeBand.label_of,
            "wording": Wording.label_of,
            "language": lambda code: LANGUAGE_NAMES.get(code, code),
        }
    }


def _today() -> dt.date:
    return now().astimezone(LONDON).date()


def _at_london(day: dt.date) -> dt.datetime:
    """A date typed by staff as a UTC instant: now if it is today, otherwise midday in London."""
    if day == _today():
        return now()
    return dt.datetime.combine(day, dt.time(12, 0), tzinfo=LONDON).astimezone(dt.UTC)


def _load_case(case_ref: str) -> Case:
    case = queries.case_by_reference(db.session, current_user.service_id, case_ref)
    if case is None:
        abort(404)
    return case


def _load_party(case_ref: str, party_public_id: str) -> tuple[Case, Party]:
    case = _load_case(case_ref)
    party = queries.party_in_case(case, party_public_id)
    if party is None:
        abort(404)
    return case, party


def _apply_errors(form: Form, errors: dict[str, str], rename: dict[str, str] | None = None) -> None:
    """Show a service's refusals against the form's fields (unknown fields go on the first field)."""
    rename = rename or {}
    first = next(iter(form))
    for key, message in errors.items():
        name = rename.get(key, key)
        field = form._fields.get(name) if hasattr(form, "_fields") else None
        target = field if field is not None else first
        if not isinstance(target.errors, list):
            target.errors = list(target.errors)
        target.errors.append(message)


def _staff_choices(blank: str | None) -> list[tuple[str, str]]:
    staff = queries.service_staff(db.session, current_user.service_id)
    choices = [(u.public_id, f"{u.full_name} ({u.role})") for u in staff]
    return [("", blank), *choices] if blank is not None else choices


# --- referral ----------------------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.CREATE_REFERRAL)
def new_referral():
    """Take a referral from a partner by phone, email or letter."""
    form = ReferralForm()
    form.lead_facilitator.choices = as_choices(_staff_choices("Not assigned yet"))
    if request.method == "GET":
        form.received_on.data = _today()
        form.lead_facilitator.data = current_user.public_id
        return render_template("cases/referral.html", form=form)
    if not form.validate_on_submit():
        return render_template("cases/referral.html", form=form), 400
    lead = None
    if form.lead_facilitator.data:
        lead = queries.staff_member(db.session, current_user.service_id, form.lead_facilitator.data)
    parties, rename = [], {"received_at": "received_on", "parties": "victim_name"}
    for role, field in (("victim", form.victim_name), ("offender", form.offender_name)):
        if (field.data or "").strip():
            rename[f"parties[{len(parties)}].full_name"] = field.name
            parties.append(services.PartyInput(role=role, full_name=field.data))
    flags = set(form.flags.data or [])
    try:
        case = services.create_referral(
            current_user.service,
            source=form.source.data,
            offence_category=form.offence_category.data,
            offence_date=form.offence_date.data,
            crime_reference=form.crime_reference.data,
            justice_stage=form.justice_stage.data,
            received_at=_at_london(form.received_on.data),
            lead_facilitator=lead,
            referrer_name=form.referrer_name.data,
            referrer_organisation=form.referrer_organisation.data,
            summary=form.summary.data,
            parties=parties,
            actor=current_user,
            domestic_abuse="domestic_abuse" in flags,
            sexual_offence="sexual_offence" in flags,
            hate_crime="hate_crime" in flags,
        )
    except ReferralInvalid as refused:
        _apply_errors(form, refused.errors, rename)
        return render_template("cases/referral.html", form=form), 400
    flash(f"Referral saved as {case.reference}.", "success")
    return redirect(url_for("cases.case_page", case_ref=case.reference))


# --- lists ---------------------------------------------------------------------------------------


def _filters_from_request() -> queries.CaseFilters:
    args = request.args
    sensitive = {"yes": True, "no": False}.get(args.get("sensitive", ""))
    state = args.get("state") or None
    if state and state not in {s.value for s in CaseState}:
        state = None
    offence = args.get("offence_category") or None
    if offence and offence not in {o.value for o in OffenceCategory}:
        offence = None
    return queries.CaseFilters(
        state=state,
        offence_category=offence,
        facilitator=args.get("facilitator") or None,
        sensitive=sensitive,
        overdue=args.get("overdue") == "yes",
        needs_triage=args.get("needs_triage") == "yes",
        search=(args.get("q") or "").strip()[:100] or None,
    )


def _page_number() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


@bp.get("")
@requires(Permission.VIEW_CASE)
def case_list():
    """The team's cases with filters (state, offence, facilitator, sensitive, overdue) and search."""
    filters = _filters_from_request()
    page = queries.team_cases(
        db.session, current_user.service_id, filters, _today(), _page_number(), PER_PAGE
    )
    audit.record(
        "case.list_viewed",
        object_type="case_list",
        service_id=current_user.service_id,
        details={
            "page": page.page,
            "filters": {k: v for k, v in vars(filters).items() if v not in (None, False) and k != "search"},
            "searched": filters.search is not None,
        },
    )
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "cases/list.html",
        page=page,
        filters=filters,
        args=args,
        today=_today(),
        staff=queries.service_staff(db.session, current_user.service_id),
        states=CaseState.choices(),
        offences=OffenceCategory.choices(),
    )


# --- the case page ------------------------------------------------------------------------------


@bp.get("/<case_ref>")
@requires(Permission.VIEW_CASE)
def case_page(case_ref: str):
    """The case: parties (no contact details), consent, readiness, notes and timeline."""
    case = _load_case(case_ref)
    audit.record("case.viewed", object_type="case", object_id=case.reference, service_id=case.service_id)
    return _render_case(case, NoteForm())


def _render_case(case: Case, note_form: NoteForm, status: int = 200):
    party_rows = [
        {
            "party": p,
            "take_part": current_consent(p, "take_part"),
            "contact": current_consent(p, "contact"),
            "supports": next((o for o in case.parties if o.id == p.supports_party_id), None),
        }
        for p in case.parties
    ]
    body = render_template(
        "cases/case.html",
        case=case,
        party_rows=party_rows,
        checklist=readiness(case),
        notes=queries.notes(db.session, case),
        events=queries.timeline(db.session, case),
        note_form=note_form,
        form=note_form,
        today=_today(),
        can_reassign=can(current_user, Permission.REASSIGN_CASE, case),
        can_triage=can(current_user, Permission.TRIAGE_REFERRAL, case),
    )
    return body, status


@bp.post("/<case_ref>/notes")
@requires(Permission.EDIT_CASE)
def add_note(case_ref: str):
    case = _load_case(case_ref)
    form = NoteForm()
    if form.validate_on_submit():
        try:
            services.add_note(case, form.text.data, actor=current_user, at=now())
        except NoteInvalid as refused:
            _apply_errors(form, refused.errors)
        else:
            flash("Note added.", "success")
            return redirect(url_for("cases.case_page", case_ref=case.reference) + "#notes")
    audit.record("case.viewed", object_type="case", object_id=case.reference, service_id=case.service_id)
    return _render_case(case, form, 400)


@bp.route("/<case_ref>/state", methods=["GET", "POST"])
@requires(Permission.EDIT_CASE)
def change_state(case_ref: str):
    """Move the case on, or close it with a reason; a transition that is not allowed is refused with the reason."""
    case = _load_case(case_ref)
    form = StateForm()
    form.target.choices = as_choices(
        [(s.value, s.label) for s in CaseState if s in ALLOWED[CaseState(case.state)]]
    )
    if request.method == "POST" and form.validate_on_submit():
        try:
            services.change_state(
                case,
                form.target.data,
                actor=current_user,
                at=now(),
                closure_reason=form.closure_reason.data if form.target.data == CaseState.CLOSED else None,
            )
        except TransitionRefused as refused:
            form.target.errors = list(form.target.errors) + refused.reasons
        else:
            flash(f"Case {case.reference} is now {case.state_label.lower()}.", "success")
            return redirect(url_for("cases.case_page", case_ref=case.reference))
    elif request.method == "GET":
        audit.record("case.viewed", object_type="case", object_id=case.reference, service_id=case.service_id)
        return render_template("cases/state.html", case=case, form=form)
    return render_template("cases/state.html", case=case, form=form), 400


@bp.route("/<case_ref>/reassign", methods=["GET", "POST"])
@requires(Permission.REASSIGN_CASE)
def reassign(case_ref: str):
    case = _load_case(case_ref)
    form = ReassignForm()
    form.lead_facilitator.choices = as_choices(_staff_choices("Select"))
    if request.method == "POST" and form.validate_on_submit():
        user = queries.staff_member(db.session, current_user.service_id, form.lead_facilitator.data)
        if user is None:
            form.lead_facilitator.errors = ["Select a member of staff of this service"]
        else:
            try:
                services.reassign_case(case, user, actor=current_user, at=now())
            except ReassignRefused as refused:
                form.lead_facilitator.errors = [refused.reason]
            else:
                flash(f"Case {case.reference} reassigned to {user.full_name}.", "success")
                return redirect(url_for("cases.case_page", case_ref=case.reference))
        return render_template("cases/reassign.html", case=case, form=form), 400
    if request.method == "POST":
        return render_template("cases/reassign.html", case=case, form=form), 400
    audit.record("case.viewed", object_type="case", object_id=case.reference, service_id=case.service_id)
    return render_template("cases/reassign.html", case=case, form=form)


@bp.route("/<case_ref>/triage", methods=["GET", "POST"])
@requires(Permission.TRIAGE_REFERRAL)
def triage(case_ref: str):
    case = _load_case(case_ref)
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            services.clear_triage(case, actor=current_user, at=now())
        except TriageRefused as refused:
            flash(refused.reason)
            return redirect(url_for("cases.case_page", case_ref=case.reference))
        flash("Self-referral triaged: the case can now be worked.", "success")
        return redirect(url_for("cases.case_page", case_ref=case.reference))
    audit.record("case.viewed", object_type="case", object_id=case.reference, service_id=case.service_id)
    return render_template("cases/triage.html", case=case, form=form)


# --- parties --------------------------------------------------------------------------------


def _party_input(form: PartyForm, role: str) -> services.PartyInput:
    return services.PartyInput(
        role=role,
        full_name=form.full_name.data or "",
        preferred_name=form.preferred_name.data,
        pronouns=form.pronouns.data,
        date_of_birth=form.date_of_birth.data,
        age_band=form.age_band.data or None,
        mobile=form.mobile.data,
        email=form.email.data,
        address=form.address.data,
        language=form.language.data or "en",
        interpreter_needed=bool(form.interpreter_needed.data),
        accessibility_needs=form.accessibility_needs.data,
        organisation=form.organisation.data,
        guardian_name=form.guardian_name.data,
        guardian_mobile=form.guardian_mobile.data,
        guardian_email=form.guardian_email.data,
    )


def _supports_choices(case: Case) -> list[tuple[str, str]]:
    return [("", "Not a supporter")] + [
        (p.public_id, f"{p.display_name} ({p.role_label.lower()})")
        for p in case.parties
        if p.role in (PartyRole.VICTIM, PartyRole.OFFENDER)
    ]


@bp.route("/<case_ref>/parties/new", methods=["GET", "POST"])
@requires(Permission.EDIT_CASE)
def add_party(case_ref: str):
    """Add a victim, offender, supporter, interpreter or other professional."""
    case = _load_case(case_ref)
    form = PartyForm()
    form.supports.choices = as_choices(_supports_choices(case))
    if request.method == "GET":
        audit.record("case.viewed", object_type="case", object_id=case.reference, service_id=case.service_id)
        return render_template("cases/party_form.html", case=case, form=form, party=None)
    if form.validate_on_submit():
        supports = queries.party_in_case(case, form.supports.data) if form.supports.data else None
        try:
            party = services.add_party(
                case, _party_input(form, form.role.data), actor=current_user, at=now(), supports=supports
            )
        except PartyInvalid as refused:
            _apply_errors(form, refused.errors)
        else:
            flash(f"{party.display_name} added to the case.", "success")
            return _back_to_party(case, party)
    return render_template("cases/party_form.html", case=case, form=form, party=None), 400


@bp.get("/<case_ref>/parties/<party_public_id>")
@requires(Permission.VIEW_CASE)
def party_page(case_ref: str, party_public_id: str):
    """One party's panel: their details, preferences and consent (and nobody else's contact details)."""
    case, party = _load_party(case_ref, party_public_id)
    audit.record(
        "party.viewed",
        object_type="party",
        object_id=party.public_id,
        service_id=case.service_id,
        details={"case": case.reference},
    )
    supports = next((p for p in case.parties if p.id == party.supports_party_id), None)
    return render_template(
        "cases/party.html",
        case=case,
        party=party,
        supports=supports,
        statuses=consent_statuses(party),
        history=list(reversed(party.consent_records)),
        monitoring_recorded=queries.equality_monitoring_recorded(db.session, party),
        today=_today(),
    )


@bp.route("/<case_ref>/parties/<party_public_id>/edit", methods=["GET", "POST"])
@requires(Permission.EDIT_CASE)
def edit_party(case_ref: str, party_public_id: str):
    case, party = _load_party(case_ref, party_public_id)
    form = PartyForm(obj=party if request.method == "GET" else None)
    # The role (and whom a supporter supports) is fixed once the person is added.
    del form.role
    del form.supports
    if request.method == "GET":
        form.mobile.data = format_mobile(party.mobile_e164)
        form.guardian_mobile.data = format_mobile(party.guardian_mobile_e164)
        form.age_band.data = party.age_band or ""
        _record_party_viewed(case, party)
        return render_template("cases/party_form.html", case=case, form=form, party=party)
    if form.validate_on_submit():
        try:
            services.update_party(party, _party_input(form, party.role), actor=current_user, at=now())
        except PartyInvalid as refused:
            _apply_errors(form, refused.errors)
        else:
            flash("Details saved.", "success")
            return _back_to_party(case, party)
    return render_template("cases/party_form.html", case=case, form=form, party=party), 400


@bp.route("/<case_ref>/parties/<party_public_id>/contact-preferences", methods=["GET", "POST"])
@requires(Permission.EDIT_CASE)
def contact_preferences(case_ref: str, party_public_id: str):
    """Safe-contact preferences: channels, wording, the weekly safe times, a "do not contact before" date."""
    case, party = _load_party(case_ref, party_public_id)
    form = ContactPreferencesForm()
    if request.method == "GET":
        form.channels.data = [
            c
            for c, on in (
                ("sms", party.allow_sms),
                ("email", party.allow_email),
                ("voicemail", party.allow_voicemail),
            )
            if on
        ]
        form.wording.data = party.wording
        form.days.data = sorted({str(w.weekday) for w in party.contact_windows})
        if party.contact_windows:
            form.safe_from.data = party.contact_windows[0].starts_at.strftime("%H:%M")
            form.safe_until.data = party.contact_windows[0].ends_at.strftime("%H:%M")
        form.do_not_contact_before.data = party.do_not_contact_before
        _record_party_viewed(case, party)
        return render_template("cases/contact_preferences.html", case=case, party=party, form=form)
    if form.validate_on_submit():
        channels = set(form.channels.data or [])
        try:
            services.set_contact_preferences(
                party,
                allow_sms="sms" in channels,
                allow_email="email" in channels,
                allow_voicemail="voicemail" in channels,
                wording=form.wording.data,
                windows=form.windows(),
                do_not_contact_before=form.do_not_contact_before.data,
                actor=current_user,
                at=now(),
            )
        except ContactInvalid as refused:
            _apply_errors(form, refused.errors, {"windows": "safe_until"})
        else:
            flash("Contact preferences saved.", "success")
            return _back_to_party(case, party)
    return render_template("cases/contact_preferences.html", case=case, party=party, form=form), 400


@bp.route("/<case_ref>/parties/<party_public_id>/consent", methods=["GET", "POST"])
@requires(Permission.EDIT_CASE)
def record_consent(case_ref: str, party_public_id: str):
    """Record consent given or withdrawn: what for, when, how (recorded by the signed-in user)."""
    case, party = _load_party(case_ref, party_public_id)
    form = ConsentForm()
    if request.method == "GET":
        form.decided_on.data = _today()
        _record_party_viewed(case, party)
        return render_template("cases/consent.html", case=case, party=party, form=form)
    if form.validate_on_submit():
        try:
            services.record_consent(
                party,
                form.kind.data,
                given=form.decision.data == "given",
                at=_at_london(form.decided_on.data),
                method=form.method.data,
                actor=current_user,
                partner=form.partner.data,
            )
        except ConsentInvalid as refused:
            _apply_errors(form, refused.errors, {"recorded_at": "decided_on"})
        else:
            flash("Consent recorded.", "success")
            return _back_to_party(case, party)
    return render_template("cases/consent.html", case=case, party=party, form=form), 400


@bp.route("/<case_ref>/parties/<party_public_id>/first-contact", methods=["GET", "POST"])
@requires(Permission.EDIT_CASE)
def first_contact(case_ref: str, party_public_id: str):
    case, party = _load_party(case_ref, party_public_id)
    form = FirstContactForm()
    if request.method == "GET":
        form.contacted_on.data = _today()
        _record_party_viewed(case, party)
        return render_template("cases/first_contact.html", case=case, party=party, form=form)
    if form.validate_on_submit():
        try:
            services.record_first_contact(
                party, at=_at_london(form.contacted_on.data), method=form.method.data, actor=current_user
            )
        except ContactInvalid as refused:
            _apply_errors(form, refused.errors, {"contacted_at": "contacted_on"})
        else:
            flash("First contact recorded.", "success")
            return _back_to_party(case, party)
    return render_template("cases/first_contact.html", case=case, party=party, form=form), 400


@bp.route("/<case_ref>/parties/<party_public_id>/reoffer", methods=["GET", "POST"])
@requires(Permission.EDIT_CASE)
def reoffer(case_ref: str, party_public_id: str):
    """Keep a re-offer point for a party who said "not now"."""
    case, party = _load_party(case_ref, party_public_id)
    form = ReofferForm()
    if request.method == "GET":
        form.reoffer_on.data = party.reoffer_on
        form.reoffer_justice_stage.data = party.reoffer_justice_stage
        _record_party_viewed(case, party)
        return render_template("cases/reoffer.html", case=case, party=party, form=form)
    if form.validate_on_submit():
        try:
            services.record_reoffer(
                party,
                on=form.reoffer_on.data,
                justice_stage=form.reoffer_justice_stage.data,
                actor=current_user,
                at=now(),
            )
        except ContactInvalid as refused:
            _apply_errors(form, refused.errors)
        else:
            flash("Re-offer point saved.", "success")
            return _back_to_party(case, party)
    return render_template("cases/reoffer.html", case=case, party=party, form=form), 400


@bp.route("/<case_ref>/parties/<party_public_id>/equality", methods=["GET", "POST"])
@requires(Permission.EDIT_CASE)
def equality(case_ref: str, party_public_id: str):
    """Optional equality monitoring; the answers are never shown again, only counted in reports."""
    case, party = _load_party(case_ref, party_public_id)
    form = EqualityForm()
    if request.method == "GET":
        _record_party_viewed(case, party)
        return render_template("cases/equality.html", case=case, party=party, form=form)
    if form.validate_on_submit():
        try:
            services.record_equality_monitoring(
                party,
                answers={
                    name: form[name].data
                    for name in ("ethnicity", "gender", "age_band", "disability", "religion")
                },
                actor=current_user,
                at=now(),
            )
        except PartyInvalid as refused:
            _apply_errors(form, refused.errors)
        else:
            flash("Equality monitoring saved.", "success")
            return _back_to_party(case, party)
    return render_template("cases/equality.html", case=case, party=party, form=form), 400


add_nav_item("Cases", "cases.case_list", Permission.VIEW_CASE, position=1)
add_nav_item("New referral", "cases.new_referral", Permission.CREATE_REFERRAL, position=2)
