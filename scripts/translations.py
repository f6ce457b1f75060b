"""Keep the participant-facing word catalogues in step with the code (docs/languages.md).

    .venv/bin/python scripts/translations.py update     # extract the marked words, add new ones to every .po
    .venv/bin/python scripts/translations.py check      # list every word not (properly) translated; exit 1 if any
    .venv/bin/python scripts/translations.py init cy    # start a new language (then add it to SUPPORTED_LANGUAGES)
    .venv/bin/python scripts/translations.py extract [--output PATH]   # only write the template (.pot)

`make translations-update` and `make translations-check` run the first two.
There is no compile step: the app compiles each ``.po`` in memory when it
first needs the language (rj_scheduler/i18n.py). tests/test_i18n.py runs the
same checks as ``check`` on a freshly extracted catalogue.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rj_scheduler.i18n import DOMAIN, FALLBACK_LANGUAGE, SUPPORTED_LANGUAGES  # noqa: E402
from rj_scheduler.notify.wording import discreet_terms_in  # noqa: E402

MAPPING = ROOT / "babel.cfg"
TRANSLATIONS = ROOT / "rj_scheduler" / "translations"
TEMPLATE = TRANSLATIONS / f"{DOMAIN}.pot"
# Python's %(name)s (gettext(..., name=...)) and Notify-style ((name)) placeholders.
_PERCENT = re.compile(r"%\((\w+)\)")
_DOUBLE_BRACKETS = re.compile(r"\(\(([^()]*)\)\)")


def _pybabel(*args: str) -> None:
    # From the repository root, so locations read rj_scheduler/... whatever the caller's directory.
    with contextlib.chdir(ROOT):
        CommandLineInterface().run(["pybabel", "--quiet", *args])


def po_path(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def translated_languages() -> list[str]:
    """Every language with a catalogue (English needs none: the words are written in it)."""
    return sorted(p.parent.parent.name for p in TRANSLATIONS.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def extract(output: Path) -> Catalog:
    """Extract every marked word under rj_scheduler/ into ``output`` (a .pot) and return it.

    Locations name the file only (no line numbers), so moving code does not
    change the catalogues.
    """
    _pybabel(
        "extract",
        "--mapping-file",
        str(MAPPING),
        "--output-file",
        str(output),
        "--add-location=file",
        "--sort-by-file",
        "--add-comments=Translators:",
        "--project=rj_scheduler",
        "--copyright-holder=rj_scheduler",
        "--ignore-dirs=.* _* node_modules",
        ".",
    )
    return read_catalogue(output)


def read_catalogue(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=language, domain=DOMAIN)


def _messages(catalogue: Catalog) -> list[tuple[object, object, object]]:
    return [(m.id, m.context, tuple(m.auto_comments)) for m in catalogue if m.id]


def write_template() -> Catalog:
    """Extract into rj_scheduler/translations/messages.pot, rewriting it only when the words changed."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh_path = Path(tmp) / f"{DOMAIN}.pot"
        fresh = extract(fresh_path)
        if not TEMPLATE.exists() or _messages(read_catalogue(TEMPLATE)) != _messages(fresh):
            TEMPLATE.write_bytes(fresh_path.read_bytes())
    return read_catalogue(TEMPLATE)


def update() -> None:
    """Extract, then add new words to (and drop removed ones from) every language's .po."""
    write_template()
    for language in translated_languages():
        _pybabel(
            "update",
            "--input-file",
            str(TEMPLATE),
            "--output-file",
            str(po_path(language)),
            "--locale",
            language,
            "--domain",
            DOMAIN,
            "--ignore-obsolete",
            "--ignore-pot-creation-date",
        )


def init(language: str) -> None:
    """Start a catalogue for a new language from the current words."""
    if po_path(language).exists():
        raise SystemExit(f"{po_path(language).relative_to(ROOT)} already exists: use update.")
    write_template()
    _pybabel(
        "init",
        "--input-file",
        str(TEMPLATE),
        "--output-dir",
        str(TRANSLATIONS),
        "--locale",
        language,
        "--domain",
        DOMAIN,
    )
    if language not in SUPPORTED_LANGUAGES:
        print(f"Now add {language!r} to SUPPORTED_LANGUAGES in rj_scheduler/i18n.py.")


def placeholders(text: str) -> set[str]:
    """The placeholders in a message: %(name)s and ((name))."""
    return set(_PERCENT.findall(text)) | {f"(({name.strip()}))" for name in _DOUBLE_BRACKETS.findall(text)}


def _describe(message_id: object, context: object) -> str:
    singular = message_id[0] if isinstance(message_id, tuple) else message_id
    where = f" [{context}]" if context else ""
    return f"{singular!r}{where}"


def problems(template: Catalog, translation: Catalog, language: str) -> list[str]:
    """Every word of ``template`` that ``translation`` lacks, leaves empty or fuzzy, whose placeholders
    differ, or that names what discreet wording must not while the English does not.

    A translation may keep words the code no longer has (they are harmless);
    ``update`` drops them.
    """
    found: list[str] = []
    for message in template:
        if not message.id:
            continue
        label = _describe(message.id, message.context)
        existing = translation.get(message.id, message.context)
        if existing is None:
            found.append(f"{language}: {label} is not in the catalogue (run make translations-update)")
            continue
        strings = existing.string if isinstance(existing.string, tuple) else (existing.string,)
        if not all(s and s.strip() for s in strings):
            found.append(f"{language}: {label} is not translated")
            continue
        if existing.fuzzy:
            found.append(f"{language}: {label} is marked fuzzy (check the translation, then remove the flag)")
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        expected = set().union(*(placeholders(i) for i in ids))
        if isinstance(message.id, tuple):
            # A plural form may leave out the count ("one minute"), never any other value.
            required = expected - {"num"}
            wrong = [s for s in strings if not (required <= placeholders(s) <= expected)]
        else:
            wrong = [s for s in strings if placeholders(s) != expected]
        if wrong:
            found.append(
                f"{language}: {label} has placeholders {sorted(placeholders(wrong[0]))}, "
                f"the English has {sorted(expected)}"
            )
            continue
        # Discreet English stays discreet in translation (DOMAIN.md rule 6, docs/languages.md).
        if not any(discreet_terms_in(i) for i in ids):
            giveaways = [term for s in strings for term in discreet_terms_in(s)]
            if giveaways:
                found.append(
                    f'{language}: {label} is discreet in English but the translation says "{giveaways[0]}"'
                )
    return found


def check(template: Catalog) -> list[str]:
    """Problems in every supported language's catalogue against ``template``."""
    found: list[str] = []
    languages = translated_languages()
    for language in sorted(set(SUPPORTED_LANGUAGES) - {FALLBACK_LANGUAGE} - set(languages)):
        found.append(f"{language}: is supported but has no {po_path(language).relative_to(ROOT)}")
    for language in languages:
        if language not in SUPPORTED_LANGUAGES:
            found.append(f"{language}: has a catalogue but is not in SUPPORTED_LANGUAGES")
            continue
        found.extend(problems(template, read_catalogue(po_path(language), language), language))
    return found


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    extract_command = commands.add_parser("extract", help="write the template (.pot) only")
    extract_command.add_argument("--output", type=Path, default=None)
    commands.add_parser("update", help="extract, then update every language's .po")
    commands.add_parser("check", help="list words not properly translated; exit 1 if any")
    init_command = commands.add_parser("init", help="start a catalogue for a new language")
    init_command.add_argument("language")
    args = parser.parse_args(argv)

    if args.command == "extract":
        if args.output is None:
            write_template()
            print(f"wrote {TEMPLATE.relative_to(ROOT)}")
        else:
            extract(args.output)
            print(f"wrote {args.output}")
    elif args.command == "update":
        update()
        print("updated " + ", ".join(str(po_path(lang).relative_to(ROOT)) for lang in translated_languages()))
    elif args.command == "init":
        init(args.language)
        print(f"wrote {po_path(args.language).relative_to(ROOT)}")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            found = check(extract(Path(tmp) / f"{DOMAIN}.pot"))
        for line in found:
            print(line)
        if found:
            print(f"{len(found)} word(s) to translate or fix (docs/languages.md)", file=sys.stderr)
            return 1
        print("every word is translated in " + ", ".join(translated_languages()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
