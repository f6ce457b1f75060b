"""SMS encoding and segments, placeholders, and the discreet-wording rule (DOMAIN rule 6)."""

from __future__ import annotations

import pytest

from rj_scheduler.notify.encoding import GSM7, UCS2, sms_size
from rj_scheduler.notify.exceptions import WordingRefused
from rj_scheduler.notify.wording import (
    check_wording,
    message_kind,
    preview_sms,
    render,
    text_to_html,
)


def test_plain_ascii_is_gsm7_and_160_characters_fit_one_segment():
    assert sms_size("a" * 160) == sms_size("a" * 160)
    size = sms_size("a" * 160)
    assert (size.encoding, size.characters, size.units, size.segments) == (GSM7, 160, 160, 1)
    assert sms_size("a" * 161).segments == 2
    assert sms_size("a" * 306).segments == 2
    assert sms_size("a" * 307).segments == 3


def test_gsm7_extension_characters_count_twice():
    size = sms_size("€" * 80)
    assert size.encoding == GSM7
    assert size.units == 160
    assert size.segments == 1
    assert sms_size("€" * 81).segments == 2


def test_an_escape_pair_is_not_split_between_segments():
    # 152 plain septets then one two-septet character: it cannot fit in the first 153.
    assert sms_size("a" * 152 + "€" + "a" * 8).segments == 2
    assert sms_size("a" * 152 + "€" + "a" * 152).segments == 3


def test_one_non_gsm_character_makes_the_whole_message_ucs2():
    size = sms_size("Your appointment is confirmed ✓")
    assert size.encoding == UCS2
    assert sms_size("é" * 70).encoding == GSM7  # é is in the GSM-7 table
    assert sms_size("ú" * 70).segments == 1
    assert sms_size("ú" * 71).segments == 2
    assert sms_size("ú" * 134).segments == 2
    assert sms_size("ú" * 135).segments == 3


def test_an_emoji_counts_as_two_ucs2_units():
    size = sms_size("👍" * 35)
    assert (size.units, size.segments, size.characters) == (70, 1, 35)
    assert sms_size("👍" * 36).segments == 2


def test_preview_warns_over_two_segments():
    assert preview_sms("a" * 306).warning is None
    warning = preview_sms("a" * 307).warning
    assert warning is not None
    assert "3 text messages" in warning


def test_wording_with_an_unknown_placeholder_is_refused_naming_it():
    kind = message_kind("appointment_reminder")
    with pytest.raises(WordingRefused) as refused:
        check_wording(kind, "sms", "discreet", None, "Hello ((first_name)), see you ((meeting_room)).")
    assert "((meeting_room)) is not a placeholder for this message" in refused.value.reasons[0]
    assert "((first_name))" in refused.value.reasons[0]


def test_unclosed_placeholder_is_refused():
    kind = message_kind("appointment_reminder")
    with pytest.raises(WordingRefused, match="not closed"):
        check_wording(kind, "sms", "discreet", None, "Hello ((first_name)), see you ((link)")


@pytest.mark.parametrize(
    "text",
    [
        "Your restorative justice meeting is on ((appointment_date)).",
        "A reminder for the victim: ((appointment_date)).",
        "The offender will arrive first.",
        "About the crime on ((appointment_date)).",
        "Before your court date.",
        "Police have referred you.",
        "About the offence.",
        "Restorative  Justice appointment",
    ],
)
def test_discreet_wording_that_gives_the_case_away_is_refused(text):
    kind = message_kind("appointment_reminder")
    with pytest.raises(WordingRefused, match="Discreet wording must not mention it"):
        check_wording(kind, "sms", "discreet", None, text)


def test_plain_wording_may_mention_restorative_justice_and_the_offence():
    kind = message_kind("appointment_reminder")
    check_wording(
        kind,
        "sms",
        "plain",
        None,
        "Your restorative justice meeting about ((offence)) is on ((appointment_date)).",
    )


def test_discreet_wording_may_not_use_a_sensitive_placeholder():
    kind = message_kind("appointment_reminder")
    with pytest.raises(WordingRefused, match=r"uses \(\(offence\)\), which is only allowed in plain wording"):
        check_wording(kind, "sms", "discreet", None, "About ((offence)) on ((appointment_date)).")


def test_discreet_email_subject_is_checked_too():
    kind = message_kind("appointment_reminder")
    with pytest.raises(WordingRefused, match='The subject says "Victim"'):
        check_wording(kind, "email", "discreet", "Victim appointment", "See you on ((appointment_date)).")


def test_words_that_merely_contain_a_forbidden_word_are_allowed():
    kind = message_kind("appointment_reminder")
    check_wording(kind, "sms", "discreet", None, "Thank you for your courtesy. Reply to ((service_phone)).")


def test_every_default_wording_passes_its_own_rules():
    from rj_scheduler.notify.wording import message_kinds

    for kind in message_kinds():
        for (channel, style), wording in kind.defaults.items():
            check_wording(kind, channel, style, wording.subject, wording.body)


def test_render_fills_placeholders_and_refuses_a_missing_value():
    assert render("Hello ((first_name))", {"first_name": "Sam"}) == "Hello Sam"
    with pytest.raises(WordingRefused, match=r"No value was given for \(\(link\)\)"):
        render("See ((link))", {})


def test_email_html_escapes_the_text():
    html = text_to_html("Subject <b>", "Hello <script>x</script>\n\nSecond paragraph")
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert html.count("<p>") == 2
