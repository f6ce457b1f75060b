"""Participant-facing words in the party's language (Flask-Babel catalogues).

Everything a participant reads (their page, SMS, email, calendar text) is marked
with ``_``/``gettext``, ``ngettext``, ``pgettext`` or ``lazy_gettext`` from this
module, or ``{{ _("...") }}``/``{% trans %}`` in a template, and is looked up in
``rj_scheduler/translations/<language>/LC_MESSAGES/messages.po``. English is
the language the words are written in and the fallback for anything not (yet)
translated. Staff pages stay in English.

Which language: ``in_language(party.language)`` around whatever is rendered or
sent for one party (the dispatcher, the CLI, a staff request that previews a
message); a participant page calls ``use_language(invitation.language)`` (or
sets ``g.rj_language``) before it renders. Nothing here looks at the browser's
Accept-Language: a shared device must not change a participant's page.

The catalogues are read from the committed ``.po`` files and compiled in memory
the first time a process needs a language, so there is no compile step to forget
(on a fresh clone, in CI, under gunicorn or a bare ``pytest``). See docs/languages.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import flask_babel
from babel import dates as babel_dates
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from flask import Flask, g, has_app_context
from flask_babel import force_locale, gettext, lazy_gettext, lazy_pgettext, ngettext, pgettext

__all__ = [
    "FALLBACK_LANGUAGE",
    "SUPPORTED_LANGUAGES",
    "Babel",
    "_",
    "current_language",
    "gettext",
    "in_language",
    "language_label",
    "language_of",
    "lazy_gettext",
    "lazy_pgettext",
    "local_date",
    "local_time",
    "ngettext",
    "pgettext",
    "use_language",
]

# Each language under its own name (how a picker shows it); English is the fallback.
SUPPORTED_LANGUAGES: dict[str, str] = {"en": "English", "pl": "Polski"}
FALLBACK_LANGUAGE = "en"
TRANSLATIONS_DIRECTORY = Path(__file__).parent / "translations"
DOMAIN = "messages"
LONDON = ZoneInfo("Europe/London")

_ = gettext

# The language names in the reader's language (for staff choosing a party's language, and for
# the party's own page). They are also the words that prove the machinery end to end.
_LANGUAGE_LABELS = {
    "en": lazy_pgettext("language name", "English"),
    "pl": lazy_pgettext("language name", "Polish"),
}


def language_of(code: str | None) -> str:
    """A party's stored language as a supported language code; English when unknown or empty.

    ``"pl"``, ``"PL"``, ``"pl-PL"`` and ``"pl_PL"`` are all Polish.
    """
    if not code:
        return FALLBACK_LANGUAGE
    primary = code.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in SUPPORTED_LANGUAGES else FALLBACK_LANGUAGE


def current_language() -> str:
    """The language words are being translated into now ("en" outside an app context)."""
    if not has_app_context():
        return FALLBACK_LANGUAGE
    locale = flask_babel.get_locale()
    return language_of(locale.language if locale is not None else None)


@contextmanager
def in_language(code: str | None) -> Iterator[str]:
    """Translate into the party's language inside the block (English if it is not supported).

    Works in any app context: a request (also a staff one), the dispatcher, a CLI
    command. Templates rendered inside see ``lang`` (and ``html_lang``) set to it.
    Yields the language actually used.
    """
    if not has_app_context():
        raise RuntimeError("in_language needs an app context (with app.app_context(): ...).")
    language = language_of(code)
    with force_locale(language):
        yield language


def use_language(code: str | None) -> str:
    """Set this request's language (a participant page: the invitation's language); returns it.

    Same as setting ``g.rj_language`` before anything is translated, and also
    right when something in the request was translated earlier.
    """
    g.rj_language = language_of(code)
    flask_babel.refresh()
    return g.rj_language


def language_label(code: str | None) -> str:
    """A supported language's name in the current language (e.g. "Polish", or "polski" in Polish)."""
    return str(_LANGUAGE_LABELS[language_of(code)])


def local_date(value: dt.datetime) -> str:
    """An aware datetime's day in Europe/London, in the current language.

    English follows GOV.UK style ("Tuesday 3 March 2026"); other languages use
    their own long date ("wtorek, 3 marca 2026").
    """
    local = value.astimezone(LONDON)
    language = current_language()
    if language == "en":
        return local.strftime("%A %-d %B %Y")
    return babel_dates.format_date(local.date(), format="full", locale=language)


def local_time(value: dt.datetime) -> str:
    """An aware datetime's clock time in Europe/London, in the current language ("2:30pm", "14:30")."""
    local = value.astimezone(LONDON)
    language = current_language()
    if language == "en":
        return local.strftime("%-I:%M%p").replace("AM", "am").replace("PM", "pm")
    return babel_dates.format_time(local.time(), format="short", locale=language)


class CatalogueDomain(flask_babel.Domain):
    """Flask-Babel's domain, reading each language's ``.po`` and compiling it in memory once.

    Fuzzy and empty translations are left out, as ``pybabel compile`` does, so
    their words fall back to English.
    """

    def get_translations(self) -> Translations:  # type: ignore[override]
        language = current_language()
        try:
            return self.cache[language]
        except KeyError:
            translations = _load_catalogue(language)
            self.cache[language] = translations
            return translations


def _load_catalogue(language: str) -> Translations:
    path = TRANSLATIONS_DIRECTORY / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == FALLBACK_LANGUAGE or not path.exists():
        return Translations(domain=DOMAIN)
    with path.open("rb") as po:
        catalogue = read_po(po, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalogue, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


class Babel(flask_babel.Babel):
    """Flask-Babel bound to our catalogues, our language choice and Europe/London."""

    @cached_property
    def domain_instance(self) -> CatalogueDomain:  # type: ignore[override]
        return CatalogueDomain(domain=DOMAIN)

    def init_app(self, app: Flask) -> None:  # type: ignore[override]
        super().init_app(
            app,
            default_locale=FALLBACK_LANGUAGE,
            default_domain=DOMAIN,
            default_translation_directories=str(TRANSLATIONS_DIRECTORY),
            default_timezone="Europe/London",
            locale_selector=_request_language,
        )
        # {% trans %} blocks ignore line breaks and indentation (extraction does the same: babel.cfg).
        app.jinja_env.policies["ext.i18n.trimmed"] = True
        app.jinja_env.filters["local_date"] = local_date
        app.jinja_env.filters["local_time"] = local_time

        @app.context_processor
        def inject_language() -> dict[str, object]:
            language = current_language()
            return {"lang": language, "html_lang": language}


def _request_language() -> str:
    """A page is in the language its view chose (``g.rj_language``), otherwise English."""
    return language_of(g.get("rj_language"))
