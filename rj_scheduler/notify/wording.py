"""Kinds of message, their placeholders and default wording, and the rules for wording.

Wording uses GOV.UK Notify's placeholder syntax: ``((first_name))``. Each kind
of message lists the placeholders it may use; a manager's wording naming any
other is refused at save time with the placeholder named. Discreet wording (the
default for every party who has not chosen plain wording: DOMAIN.md rule 6) may
not name the offence, the other party, "victim", "offender", "crime", "court",
"police" or "restorative justice", nor use a sensitive placeholder.

Other capabilities register their kinds with ``register_message_kind``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from rj_scheduler.notify.encoding import SmsSize, sms_size
from rj_scheduler.notify.exceptions import UnknownMessageKind, WordingRefused

PLACEHOLDER = re.compile(r"\(\(([^()]*)\)\)")
DISCREET_TERMS = (
    "victim",
    "offender",
    "offence",
    "offense",
    "crime",
    "court",
    "police",
    "restorative justice",
    # Polish (docs/languages.md: discreet wording holds in every language the messages are sent in)
    "ofiara",
    "pokrzywdzony",
    "sprawca",
    "przestępstwo",
    "wykroczenie",
    "sąd",
    "policja",
    "sprawiedliwość naprawcza",
)
# Polish words with their inflections: victim (ofiara, pokrzywdzony), offender (sprawca, sprawczyni),
# crime (przestępstwo, przestępca, przestępczy), offence (wykroczenie), court (sąd, sądowy), police
# (policja, policjant, policyjny) and restorative justice (sprawiedliwość naprawcza).
_POLISH_DISCREET = (
    r"ofiar(?:a|y|ę|ą|o|om|ami|ach)?|ofierze|pokrzywdzon\w*|pokrzywdzeni\w*"
    r"|sprawc(?:a|y|ę|ą|o|ów|om|ami|ach)|sprawczy(?:ni\w*|ń)"
    r"|przestęp(?:stw|c|cz)\w*|wykrocze(?:ni\w*|ń)"
    r"|sąd(?:u|em|zie|y|ów|om|ami|ach)?|sądow\w*"
    r"|polic(?:j|yjn)\w*"
    r"|sprawiedliwoś(?:ć|ci|cią)\s+naprawcz\w*"
)
_DISCREET_PATTERN = re.compile(
    r"\b(victim|offender|offen[cs]e|crime|criminal|court|police|restorative\s+justice)s?\b"
    rf"|\b(?:{_POLISH_DISCREET})\b",
    re.IGNORECASE,
)
SMS_SEGMENT_WARNING = 2


def N_(text: str) -> str:
    """Mark a default wording for translation without translating it now.

    ``make translations-update`` extracts ``N_("...")`` into the catalogues;
    ``wording_for`` looks the English text up in the party's language when it is used.
    """
    return text


@dataclass(frozen=True)
class Placeholder:
    name: str
    description: str
    example: str
    # Sensitive placeholders (the offence, the other party) are refused in discreet wording.
    sensitive: bool = False


@dataclass(frozen=True)
class Wording:
    body: str
    subject: str | None = None


@dataclass(frozen=True)
class MessageKind:
    """A kind of message: who gets it, on which channels, its placeholders and default wording.

    ``defaults`` maps (channel, style) to the default wording; a plain style
    falls back to the discreet default. Staff messages have only a plain style.
    """

    kind: str
    label: str
    audience: str  # "party" or "staff"
    placeholders: tuple[Placeholder, ...]
    defaults: Mapping[tuple[str, str], Wording] = field(default_factory=dict)

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(sorted({channel for channel, _ in self.defaults}))

    @property
    def styles(self) -> tuple[str, ...]:
        return ("discreet", "plain") if self.audience == "party" else ("plain",)

    @property
    def placeholder_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.placeholders)

    def default(self, channel: str, style: str) -> Wording:
        wording = self.defaults.get((channel, style)) or self.defaults.get((channel, "discreet"))
        if wording is None:
            raise UnknownMessageKind(f"{self.label} has no {channel} wording.")
        return wording

    def examples(self) -> dict[str, str]:
        return {p.name: p.example for p in self.placeholders}


_KINDS: dict[str, MessageKind] = {}


def register_message_kind(kind: MessageKind) -> None:
    """Add a kind of message (called at import time by the capability that sends it)."""
    _KINDS[kind.kind] = kind


def message_kind(kind: str) -> MessageKind:
    try:
        return _KINDS[kind]
    except KeyError:
        raise UnknownMessageKind(f"There is no kind of message called {kind!r}.") from None


def message_kinds() -> list[MessageKind]:
    return sorted(_KINDS.values(), key=lambda k: (k.audience, k.label))


def placeholders_in(text: str) -> list[str]:
    return [name.strip() for name in PLACEHOLDER.findall(text or "")]


def wording_problems(
    kind: MessageKind, channel: str, style: str, subject: str | None, body: str
) -> list[str]:
    """Every reason this wording cannot be saved, in plain English (empty when it can)."""
    problems: list[str] = []
    texts = [("The message", body)]
    if channel == "email":
        texts.insert(0, ("The subject", subject or ""))
        if not (subject or "").strip():
            problems.append("Enter a subject.")
    if not body.strip():
        problems.append("Enter the wording of the message.")
    allowed = {p.name: p for p in kind.placeholders}
    seen_unknown: list[str] = []
    for label, text in texts:
        stripped = PLACEHOLDER.sub("", text)
        if "((" in stripped or "))" in stripped:
            problems.append(f"{label} has a placeholder that is not closed: write placeholders as ((name)).")
        for name in placeholders_in(text):
            if name not in allowed and name not in seen_unknown:
                seen_unknown.append(name)
                problems.append(
                    "(("
                    + name
                    + ")) is not a placeholder for this message. You can use "
                    + ", ".join(f"(({n}))" for n in allowed)
                    + "."
                )
    if style == "discreet":
        for label, text in texts:
            for name in placeholders_in(text):
                placeholder = allowed.get(name)
                if placeholder is not None and placeholder.sensitive:
                    problems.append(
                        f"{label} uses (({name})), which is only allowed in plain wording: "
                        "someone else may read this message."
                    )
            for term in discreet_terms_in(PLACEHOLDER.sub("", text)):
                problems.append(
                    f'{label} says "{term}". Discreet wording must not mention it: '
                    "someone else may read this message on a shared phone or inbox."
                )
    return problems


def discreet_terms_in(text: str) -> list[str]:
    """The words of ``text`` that discreet wording must not contain, as they appear."""
    found: list[str] = []
    for match in _DISCREET_PATTERN.finditer(text or ""):
        term = match.group(0)
        if term.lower() not in (f.lower() for f in found):
            found.append(term)
    return found


def check_wording(kind: MessageKind, channel: str, style: str, subject: str | None, body: str) -> None:
    """Refuse wording with unknown placeholders, or discreet wording that gives away the case."""
    problems = wording_problems(kind, channel, style, subject, body)
    if problems:
        raise WordingRefused(problems)


def render(text: str, values: Mapping[str, object]) -> str:
    """Fill in the placeholders. A placeholder without a value is refused, never left blank."""
    missing = [name for name in placeholders_in(text) if name not in values]
    if missing:
        raise WordingRefused(["No value was given for ((" + missing[0] + "))."])
    return PLACEHOLDER.sub(lambda m: str(values[m.group(1).strip()]), text)


def check_never_mentioned(text: str, never_mention: Iterable[str]) -> None:
    """Refuse a rendered discreet message that contains any of the given words (e.g. the other party's name)."""
    lowered = text.lower()
    for term in never_mention:
        if term and term.strip() and term.strip().lower() in lowered:
            raise WordingRefused(["The message mentions something this party must not be sent."])


def check_discreet_text(subject: str | None, body: str) -> None:
    """Refuse a rendered discreet message whose text (placeholders filled in) gives the case away.

    Wording is checked at save time with its placeholders left out; this checks
    what the values brought in (e.g. a service whose name says "victim").
    """
    problems = [
        f'{label} says "{term}" once filled in. Discreet messages must not mention it.'
        for label, text in (("The subject", subject or ""), ("The message", body))
        for term in discreet_terms_in(text)
    ]
    if problems:
        raise WordingRefused(problems)


@dataclass(frozen=True)
class SmsPreview:
    text: str
    size: SmsSize

    @property
    def warning(self) -> str | None:
        if self.size.segments > SMS_SEGMENT_WARNING:
            return (
                f"This message is {self.size.segments} text messages long. "
                "Messages over 2 cost more and may arrive out of order: shorten it if you can."
            )
        return None


def preview_sms(text: str) -> SmsPreview:
    return SmsPreview(text=text, size=sms_size(text))


def text_to_html(subject: str, text: str, language: str = "en") -> str:
    """A plain HTML version of an email's text: one paragraph per blank-line-separated block."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    body = Markup("").join(
        Markup("<p>{}</p>\n").format(Markup("<br>\n").join(escape(line) for line in p.splitlines()))
        for p in paragraphs
    )
    return str(
        Markup(
            '<!DOCTYPE html>\n<html lang="{}"><head><meta charset="utf-8"><title>{}</title></head>\n'
            "<body>\n{}</body></html>\n"
        ).format(language, subject, body)
    )


# The kinds the messaging engine itself sends. Later issues register theirs.
register_message_kind(
    MessageKind(
        kind="staff_message_failed",
        label="A message could not be sent (to staff)",
        audience="staff",
        placeholders=(
            Placeholder("staff_name", "the member of staff's name", "Priya Facilitator"),
            Placeholder("case_reference", "the case reference", "VF-2026-00042"),
            Placeholder("message_kind", "what the message was", "Appointment reminder"),
            Placeholder("reason", "why it could not be sent", "The mobile number is not valid."),
            Placeholder("link", "a link to the case", "https://rj.example.org/cases/VF-2026-00042"),
        ),
        defaults={
            ("email", "plain"): Wording(
                subject="A message for case ((case_reference)) could not be sent",
                body=(
                    "Dear ((staff_name)),\n\n"
                    "A message for case ((case_reference)) could not be sent: ((message_kind)).\n\n"
                    "Reason: ((reason))\n\n"
                    "Please contact the person another way and update their details: ((link))"
                ),
            )
        },
    )
)
register_message_kind(
    MessageKind(
        kind="staff_sign_off_decision",
        label="A sign-off decision (to staff)",
        audience="staff",
        placeholders=(
            Placeholder("staff_name", "the member of staff's name", "Priya Facilitator"),
            Placeholder("case_reference", "the case reference", "VF-2026-00042"),
            Placeholder("decision", "the decision", "signed off"),
            Placeholder("decided_by", "who decided", "Sam Supervisor"),
            Placeholder("link", "a link to the assessment", "https://rj.example.org/cases/VF-2026-00042"),
        ),
        defaults={
            ("email", "plain"): Wording(
                subject="Case ((case_reference)): assessment ((decision))",
                body=(
                    "Dear ((staff_name)),\n\n"
                    "((decided_by)) has ((decision)) an assessment for case ((case_reference)).\n\n"
                    "See it here: ((link))"
                ),
            )
        },
    )
)
register_message_kind(
    MessageKind(
        kind="appointment_reminder",
        label="Appointment reminder",
        audience="party",
        placeholders=(
            Placeholder("first_name", "the person's preferred name", "Sam"),
            Placeholder("service_name", "the service's name as messages give it", "LLR Support Service"),
            Placeholder("service_phone", "the service's phone number", "0300 123 4567"),
            Placeholder("appointment_date", "the date, e.g. Tuesday 3 March", "Tuesday 3 March"),
            Placeholder("appointment_time", "the time, e.g. 2:30pm", "2:30pm"),
            Placeholder("link", "the person's private link", "https://rj.example.org/i/abc123"),
            Placeholder(
                "offence", "the offence, in plain words", "the burglary at your home", sensitive=True
            ),
        ),
        defaults={
            ("sms", "discreet"): Wording(
                body=N_(
                    "Hello ((first_name)), a reminder of your appointment with ((service_name)) "
                    "on ((appointment_date)) at ((appointment_time)). Details: ((link)) "
                    "Questions? Call ((service_phone))."
                )
            ),
            ("email", "discreet"): Wording(
                subject=N_("Your appointment on ((appointment_date))"),
                body=N_(
                    "Hello ((first_name)),\n\n"
                    "This is a reminder of your appointment with ((service_name)) on ((appointment_date)) "
                    "at ((appointment_time)).\n\n"
                    "See the details, or tell us if you cannot come: ((link))\n\n"
                    "If you have questions, call us on ((service_phone))."
                ),
            ),
        },
    )
)
register_message_kind(
    MessageKind(
        kind="tried_to_reach_you",
        label="We tried to reach you",
        audience="party",
        placeholders=(
            Placeholder("first_name", "the person's preferred name", "Sam"),
            Placeholder("service_name", "the service's name as messages give it", "LLR Support Service"),
            Placeholder("service_phone", "the service's phone number", "0300 123 4567"),
        ),
        # First contact is a Victims' Code measure: when a call is not answered the facilitator
        # leaves this message. The discreet wording names neither the service nor why we called,
        # because a service's own name often says "victim" or "restorative justice".
        defaults={
            ("sms", "discreet"): Wording(
                body=N_(
                    "Hello ((first_name)), we tried to call you today. "
                    "Please call us back on ((service_phone)) when it is a good time to talk."
                )
            ),
            ("sms", "plain"): Wording(
                body=N_(
                    "Hello ((first_name)), this is ((service_name)). We tried to call you today about "
                    "restorative justice. Please call us back on ((service_phone)) when it is a good time to talk."
                )
            ),
            ("email", "discreet"): Wording(
                subject=N_("We tried to call you"),
                body=N_(
                    "Hello ((first_name)),\n\n"
                    "We tried to call you today.\n\n"
                    "Please call us back on ((service_phone)) when it is a good time to talk. "
                    "If you would rather we contacted you another way, or at other times, tell us when you call."
                ),
            ),
            ("email", "plain"): Wording(
                subject=N_("((service_name)): we tried to call you"),
                body=N_(
                    "Hello ((first_name)),\n\n"
                    "This is ((service_name)). We tried to call you today about restorative justice: "
                    "the chance to communicate with the person responsible for the harm, if you want to.\n\n"
                    "Please call us back on ((service_phone)) when it is a good time to talk. "
                    "If you would rather we contacted you another way, or at other times, tell us when you call.\n\n"
                    "Taking part is your choice, and you can change your mind at any time."
                ),
            ),
        },
    )
)
