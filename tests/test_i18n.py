"""Participant-facing words in the party's language: the catalogues, the language choice, discretion in Polish.

The catalogue tests extract the marked words afresh from the code (as
``make translations-update`` does) and hold every supported language's ``.po``
to them: a word added to the code without a translation fails here until
``make translations-update`` has added it and someone has translated it.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import threading
from pathlib import Path
from types import ModuleType

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from flask import Flask, g, render_template_string

from rj_scheduler.i18n import (
    SUPPORTED_LANGUAGES,
    _,
    current_language,
    in_language,
    language_label,
    language_of,
    local_date,
    local_time,
    pgettext,
    use_language,
)
from rj_scheduler.notify.exceptions import WordingRefused
from rj_scheduler.notify.wording import check_wording, discreet_terms_in, message_kind

ROOT = Path(__file__).resolve().parent.parent


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("translations_script", ROOT / "scripts" / "translations.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


translations = _load_script()


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The words marked in the code now, extracted as `make translations-update` does."""
    return translations.extract(tmp_path_factory.mktemp("catalogue") / "messages.pot")


# --- choosing the language ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("pl", "pl"),
        ("PL", "pl"),
        ("pl-PL", "pl"),
        ("pl_PL", "pl"),
        (" pl ", "pl"),
        ("en", "en"),
        ("en-GB", "en"),
        ("cy", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_a_party_language_maps_to_a_supported_one_with_english_as_fallback(
    stored: str | None, expected: str
) -> None:
    assert language_of(stored) == expected


def test_english_and_polish_are_shipped() -> None:
    assert SUPPORTED_LANGUAGES == {"en": "English", "pl": "Polski"}


def test_in_polish_the_polish_catalogue_translates(app: Flask) -> None:
    with in_language("pl") as language:
        assert language == "pl"
        assert current_language() == "pl"
        assert pgettext("language name", "English") == "angielski"
        assert language_label("pl") == "polski"
    assert current_language() == "en"
    assert language_label("pl") == "Polish"


def test_an_unsupported_language_falls_back_to_english(app: Flask) -> None:
    with in_language("de") as language:
        assert language == "en"
        assert pgettext("language name", "Polish") == "Polish"
    with in_language(None) as language:
        assert language == "en"
        assert language_label("en") == "English"


def test_a_word_without_a_translation_falls_back_to_english(app: Flask) -> None:
    with in_language("pl"):
        assert (
            _("A sentence nobody has marked for translation")
            == "A sentence nobody has marked for translation"
        )
        assert _("Hello %(name)s", name="Sam") == "Hello Sam"


def test_in_language_nests_and_restores_the_language_around_it(app: Flask) -> None:
    with in_language("pl"):
        with in_language("en"):
            assert language_label("pl") == "Polish"
        assert language_label("pl") == "polski"
    assert current_language() == "en"


def test_in_language_outside_an_app_context_is_refused() -> None:
    # Each test runs inside an app context; a new thread starts without one.
    errors: list[BaseException] = []

    def outside() -> None:
        try:
            with in_language("pl"):
                pass
        except RuntimeError as error:
            errors.append(error)

    thread = threading.Thread(target=outside)
    thread.start()
    thread.join()
    assert len(errors) == 1
    assert "app context" in str(errors[0])


def test_templates_rendered_in_a_language_use_its_catalogue_and_lang(app: Flask) -> None:
    template = (
        '<html lang="{{ lang }}" data-html-lang="{{ html_lang }}">{{ pgettext("language name", "Polish") }}'
    )
    with app.test_request_context("/"):
        assert render_template_string(template) == '<html lang="en" data-html-lang="en">Polish'
        with in_language("pl"):
            assert render_template_string(template) == '<html lang="pl" data-html-lang="pl">polski'


def test_a_page_is_in_the_language_its_view_chose_never_the_browsers(app: Flask) -> None:
    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "pl-PL,pl;q=0.9"}):
        assert current_language() == "en"
        assert language_label("pl") == "Polish"
        # A participant page sets the invitation's language, after something was already translated.
        assert use_language("pl") == "pl"
        assert current_language() == "pl"
        assert language_label("pl") == "polski"
    with app.app_context(), app.test_request_context("/"):
        g.rj_language = "pl"
        assert current_language() == "pl"
        assert pgettext("language name", "English") == "angielski"


def test_a_staff_page_stays_in_english_whatever_the_browser_asks(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/login", headers={"Accept-Language": "pl"})
    assert page.status_code == 200
    assert '<html lang="en"' in page.get_data(as_text=True)


def test_dates_and_times_are_shown_in_london_in_the_party_language(app: Flask) -> None:
    summer = dt.datetime(2026, 7, 14, 13, 30, tzinfo=dt.UTC)  # 14:30 in London (BST)
    winter = dt.datetime(2026, 12, 1, 9, 5, tzinfo=dt.UTC)  # 09:05 in London (GMT)
    assert (local_date(summer), local_time(summer)) == ("Tuesday 14 July 2026", "2:30pm")
    assert local_time(winter) == "9:05am"
    with in_language("pl"):
        assert (local_date(summer), local_time(summer)) == ("wtorek, 14 lipca 2026", "14:30")
        assert render_template_string("{{ when | local_time }}", when=winter) == "09:05"


# --- the catalogues ----------------------------------------------------------------------


def test_every_supported_language_but_english_has_a_catalogue_and_no_other_has() -> None:
    assert set(translations.translated_languages()) == set(SUPPORTED_LANGUAGES) - {"en"}


def test_extraction_finds_words_marked_in_python_with_their_context(extracted: Catalog) -> None:
    assert extracted.get("Polish", "language name") is not None
    assert extracted.get("English", "language name") is not None


def test_every_word_in_the_code_is_translated_into_every_supported_language(extracted: Catalog) -> None:
    # Fails when a word was marked but not translated: run `make translations-update`,
    # translate the new entries in each .po (docs/languages.md) and run this again.
    problems = translations.check(extracted)
    assert not problems, f"{len(problems)} word(s) to translate or fix:\n" + "\n".join(problems)


def test_the_committed_template_lists_the_words_in_the_code(extracted: Catalog) -> None:
    committed = translations.read_catalogue(translations.TEMPLATE)
    in_code = {(m.id, m.context) for m in extracted if m.id}
    in_template = {(m.id, m.context) for m in committed if m.id}
    assert in_code == in_template, "run make translations-update"


def test_a_trans_block_is_extracted_as_the_app_looks_it_up(app: Flask, tmp_path: Path) -> None:
    """babel.cfg's Jinja options and the app's Jinja policy agree on a {% trans %} block's words."""
    source = (
        "{% if true %}\n"
        "  {% trans name=who %}\n"
        "    Hello {{ name }},\n"
        "    see you soon.\n"
        "  {% endtrans %}\n"
        "{% endif %}\n"
        '{{ _("Thank you") }}\n'
    )
    template = tmp_path / "rj_scheduler" / "templates" / "example.html"
    template.parent.mkdir(parents=True)
    template.write_text(source)
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = [
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(tmp_path), method_map, options_map
        )
    ]
    assert found == ["Hello %(name)s, see you soon.", "Thank you"]
    # The app's Jinja environment (its trim policy and block options) looks up the same words.
    looked_up = [
        message[0] if isinstance(message, tuple) else message
        for _line, _function, message in app.jinja_env.extract_translations(source)
    ]
    assert looked_up == found


def _catalogue(entries: list[tuple[str, str, bool]]) -> Catalog:
    catalogue = Catalog(locale="pl")
    for msgid, msgstr, fuzzy in entries:
        catalogue.add(msgid, msgstr, flags=["fuzzy"] if fuzzy else [])
    return catalogue


def test_a_missing_empty_or_fuzzy_translation_is_reported() -> None:
    template = _catalogue([("Confirm", "", False), ("Cancel", "", False), ("Back", "", False)])
    translation = _catalogue([("Cancel", "", False), ("Back", "Wstecz", True)])
    assert translations.problems(template, translation, "pl") == [
        "pl: 'Confirm' is not in the catalogue (run make translations-update)",
        "pl: 'Cancel' is not translated",
        "pl: 'Back' is marked fuzzy (check the translation, then remove the flag)",
    ]


def test_a_translation_must_keep_exactly_the_english_placeholders() -> None:
    template = _catalogue(
        [
            ("Please arrive at %(time)s.", "", False),
            ("Details: ((link))", "", False),
            ("Call %(phone)s or see ((link))", "", False),
        ]
    )
    translation = _catalogue(
        [
            ("Please arrive at %(time)s.", "Prosimy przyjść o %(godzina)s.", False),
            ("Details: ((link))", "Szczegóły: ((link)) ((link2))", False),
            ("Call %(phone)s or see ((link))", "Zadzwoń pod %(phone)s lub zobacz ((link))", False),
        ]
    )
    problems = translations.problems(template, translation, "pl")
    assert problems == [
        "pl: 'Please arrive at %(time)s.' has placeholders ['godzina'], the English has ['time']",
        "pl: 'Details: ((link))' has placeholders ['((link))', '((link2))'], the English has ['((link))']",
    ]


def test_a_plural_translation_may_leave_out_the_count_but_no_other_value() -> None:
    template = Catalog(locale="pl")
    template.add(("%(num)d minute", "%(num)d minutes"), ("", "", ""))
    template.add(("%(num)d day before %(date)s", "%(num)d days before %(date)s"), ("", "", ""))
    translation = Catalog(locale="pl")
    translation.add(("%(num)d minute", "%(num)d minutes"), ("minuta", "%(num)d minuty", "%(num)d minut"))
    translation.add(
        ("%(num)d day before %(date)s", "%(num)d days before %(date)s"),
        ("dzień przed %(date)s", "%(num)d dni przed", "%(num)d dni przed %(date)s"),
    )
    assert translations.problems(template, translation, "pl") == [
        "pl: '%(num)d day before %(date)s' has placeholders ['num'], the English has ['date', 'num']"
    ]


def test_a_translation_of_discreet_english_must_stay_discreet() -> None:
    template = _catalogue(
        [("Your appointment on ((appointment_date))", "", False), ("Restorative justice meeting", "", False)]
    )
    translation = _catalogue(
        [
            ("Your appointment on ((appointment_date))", "Spotkanie ze sprawcą: ((appointment_date))", False),
            ("Restorative justice meeting", "Spotkanie w ramach sprawiedliwości naprawczej", False),
        ]
    )
    assert translations.problems(template, translation, "pl") == [
        "pl: 'Your appointment on ((appointment_date))' is discreet in English but the translation says \"sprawcą\""
    ]


# --- discretion in Polish ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Spotkanie ofiary ze sprawcą",
        "Wiadomość dla ofiar przestępstw",
        "Pokrzywdzona może przyjść z osobą wspierającą",
        "Sprawczyni przeprosiła",
        "Po wyroku sądu",
        "Rozprawa w Sądzie Rejonowym",
        "termin sądowy",
        "Skontaktowała się z nami policja",
        "Policjant przyjdzie o 10:00",
        "zgłoszenie na policję",
        "przestępca",
        "To było wykroczenie",
        "Program sprawiedliwości naprawczej",
        "Sprawiedliwość naprawcza to dobrowolne spotkanie",
    ],
)
def test_polish_words_that_give_the_case_away_are_found(text: str) -> None:
    assert discreet_terms_in(text), text


@pytest.mark.parametrize(
    "text",
    [
        "Dzień dobry Sam, przypominamy o spotkaniu we wtorek o 14:30.",
        "Sądzę, że to dobry termin",
        "To rozsądny plan",
        "Możemy to policzyć",
        "Chcemy ofiarować pomoc",
    ],
)
def test_ordinary_polish_is_not_mistaken_for_a_discreet_term(text: str) -> None:
    assert discreet_terms_in(text) == []


def test_discreet_wording_in_polish_is_refused_and_plain_wording_allowed() -> None:
    kind = message_kind("tried_to_reach_you")
    body = (
        "Dzień dobry ((first_name)), dzwoniliśmy w sprawie sprawiedliwości naprawczej i spotkania ze sprawcą."
    )
    with pytest.raises(WordingRefused) as refused:
        check_wording(kind, "sms", "discreet", None, body)
    reasons = " ".join(refused.value.reasons)
    assert "sprawiedliwości naprawczej" in reasons
    assert "sprawcą" in reasons
    check_wording(kind, "sms", "plain", None, body)
