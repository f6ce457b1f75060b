"""Snapshots of every message template: each kind, on each channel, in each wording style and language.

Party messages are snapshotted in every language the catalogues ship (staff
messages are English only); a Polish snapshot is named ``<kind>.<channel>.<style>.pl.txt``.

Any change to what people receive shows up as a failing test and a readable
diff. After a deliberate change, write the snapshots again and commit them:

    RJ_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/notify/test_notify_snapshots.py

A missing snapshot fails (so a new kind cannot slip in unreviewed), and so does
a snapshot left behind by a kind or channel that no longer exists.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import rj_scheduler.invitations.messages  # noqa: F401  (registers the invitations' kinds before collection)
from rj_scheduler.cases.models import OffenceCategory
from rj_scheduler.i18n import SUPPORTED_LANGUAGES, gettext, in_language
from rj_scheduler.notify.encoding import sms_size
from rj_scheduler.notify.wording import MessageKind, discreet_terms_in, message_kinds, render, text_to_html

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("RJ_UPDATE_SNAPSHOTS") == "1"

# Fixed, invented values for every placeholder the engine knows; a kind added later that uses
# another placeholder gets its own registered example (still fixed: it is in the code).
CONTEXT = {
    "first_name": "Sam",
    "staff_name": "Priya Facilitator",
    "service_name": "LLR Support Service",
    "service_phone": "0300 123 4567",
    "appointment_date": "Tuesday 3 March",
    "appointment_time": "2:30pm",
    "link": "https://rj.example.org/i/abc123",
    "offence": "the burglary at your home",
    "case_reference": "VF-2026-00042",
    "message_kind": "Appointment reminder",
    "reason": "The mobile number is not valid.",
    "decision": "signed off",
    "decided_by": "Sam Supervisor",
}

REFUSED_WORDS = ["victim", "offender", "restorative justice", "crime", "court", "police"]
OFFENCE_WORDS = [
    "assault",
    "violence",
    "harassment",
    "stalking",
    "public order",
    "criminal damage",
    "burglary",
    "robbery",
    "theft",
    "fraud",
    "sexual",
    "domestic abuse",
    "hate",
    *(c.label.lower() for c in OffenceCategory if c != OffenceCategory.OTHER),
]


def _cases() -> list[tuple[MessageKind, str, str, str]]:
    return [
        (kind, channel, style, language)
        for kind in message_kinds()
        for channel in kind.channels
        for style in kind.styles
        for language in (SUPPORTED_LANGUAGES if kind.audience == "party" else ["en"])
    ]


def _values(kind: MessageKind) -> dict[str, str]:
    return {name: CONTEXT.get(name, example) for name, example in kind.examples().items()}


def rendered(kind: MessageKind, channel: str, style: str, language: str = "en") -> dict[str, str]:
    wording = kind.default(channel, style)
    with in_language(language):
        body_text = gettext(wording.body) if language != "en" else wording.body
        subject_text = gettext(wording.subject) if language != "en" and wording.subject else wording.subject
    values = _values(kind)
    body = render(body_text, values)
    if channel == "sms":
        return {"body": body}
    subject = render(subject_text or kind.label, values)
    return {"subject": subject, "body": body, "html": text_to_html(subject, body, language)}


def snapshot_text(kind: MessageKind, channel: str, style: str, language: str = "en") -> str:
    parts = rendered(kind, channel, style, language)
    lines = [f"kind: {kind.kind}", f"channel: {channel}", f"style: {style}", f"language: {language}"]
    if channel == "sms":
        size = sms_size(parts["body"])
        lines.append(
            f"size: {size.encoding}, {size.characters} characters, {size.segments} segment{'s' if size.segments != 1 else ''}"
        )
        lines += ["", "--- text ---", parts["body"]]
    else:
        lines.append(f"subject: {parts['subject']}")
        lines += ["", "--- text ---", parts["body"], "", "--- html ---", parts["html"].rstrip("\n")]
    return "\n".join(lines) + "\n"


def _path(kind: MessageKind, channel: str, style: str, language: str = "en") -> Path:
    suffix = "" if language == "en" else f".{language}"
    return SNAPSHOTS / f"{kind.kind}.{channel}.{style}{suffix}.txt"


@pytest.mark.parametrize(
    ("kind", "channel", "style", "language"), _cases(), ids=lambda v: getattr(v, "kind", v)
)
def test_every_message_template_matches_its_snapshot(kind, channel, style, language):
    path = _path(kind, channel, style, language)
    text = snapshot_text(kind, channel, style, language)
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot {path.name}: write it with RJ_UPDATE_SNAPSHOTS=1 and review it"
    assert path.read_text(encoding="utf-8") == text


def test_no_snapshot_is_left_over_from_a_template_that_no_longer_exists():
    expected = {_path(*case).name for case in _cases()}
    stale = sorted(p.name for p in SNAPSHOTS.glob("*.txt") if p.name not in expected)
    if UPDATE:
        for name in stale:
            (SNAPSHOTS / name).unlink()
        stale = []
    assert stale == []


def _discreet_cases() -> list[tuple[MessageKind, str, str, str]]:
    return [case for case in _cases() if case[2] == "discreet"]


@pytest.mark.parametrize(
    ("kind", "channel", "style", "language"), _discreet_cases(), ids=lambda v: getattr(v, "kind", v)
)
def test_discreet_sms_text_and_email_subjects_never_give_the_case_away(kind, channel, style, language):
    parts = rendered(kind, channel, style, language)
    shown = parts["body"] if channel == "sms" else parts["subject"]
    for word in [*REFUSED_WORDS, *OFFENCE_WORDS]:
        assert not re.search(rf"\b{re.escape(word)}", shown, re.IGNORECASE), (word, shown)
    assert discreet_terms_in(shown) == []


def test_the_discretion_check_would_catch_a_refused_word():
    """The check above can fail: the plain wording of "we tried to reach you" names the service's purpose."""
    kind = next(k for k in message_kinds() if k.kind == "tried_to_reach_you")
    plain = rendered(kind, "sms", "plain")["body"]
    assert re.search(r"\brestorative justice", plain, re.IGNORECASE)
