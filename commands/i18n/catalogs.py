"""The message catalogs: extracted from the code with Babel, translated in `locales/<lang>/LC_MESSAGES/
messages.po`, compiled in memory at start-up (no compiled `.mo` files are kept in the repository).

`python -m commands.i18n.catalogs` extracts every message from the code into `locales/messages.pot` and
brings each language's catalog up to date with it: new messages arrive untranslated, and messages no longer
in the code are dropped. `--check` changes nothing and exits 1 when a catalog is out of date.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Mapping
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po, write_po
from babel.support import Translations

from commands.i18n.languages import Language
from commands.i18n.translator import ENGLISH, Translator

LOCALES = Path(__file__).parent / "locales"
ROOT = Path(__file__).parents[2]
DOMAIN = "messages"
TRANSLATED = tuple(language for language in Language if language is not Language.EN)

#: The calls whose string arguments are messages (see `commands.i18n.translator`).
KEYWORDS: dict[str, object] = {"t": None, "n": (1, 2), "ctx": ((1, "c"), 2), "tr": None, "tr_n": (1, 2), "N_": None}
SOURCES = ("app.py", "bot", "commands")
COMMENT_TAG = "TRANSLATORS:"
WIDTH = 116


class CatalogError(Exception):
    """A catalog that cannot be used: unreadable, or not valid gettext."""


class Translators(Mapping[Language, Translator]):
    """Every language's `Translator`, made once at start-up from the catalogs."""

    def __init__(self, by_language: Mapping[Language, Translator]) -> None:
        self._by_language = dict(by_language)

    def __getitem__(self, language: Language) -> Translator:
        return self._by_language[language]

    def __iter__(self) -> Iterator[Language]:
        return iter(self._by_language)

    def __len__(self) -> int:
        return len(self._by_language)

    @classmethod
    def load(cls, locales: Path = LOCALES) -> Translators:
        """Every language's catalog read and compiled; a catalog that is not valid stops the start-up."""
        by_language: dict[Language, Translator] = {Language.EN: ENGLISH}
        for language in TRANSLATED:
            by_language[language] = Translator(language, _compiled(read_catalog(language, locales)))
        return cls(by_language)


@cache
def bundled_translators() -> Translators:
    """The catalogs shipped with the bot, read once per process: they are package data and never change."""
    return Translators.load()


def catalog_path(language: Language, locales: Path = LOCALES) -> Path:
    return locales / language.value / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(language: Language, locales: Path = LOCALES) -> Catalog:
    path = catalog_path(language, locales)
    try:
        with path.open("rb") as file:
            return read_po(file, locale=language.value, domain=DOMAIN, abort_invalid=True)
    except OSError as error:
        raise CatalogError(f"cannot read the {language.value} catalog {path}: {error}") from error
    except PoFileError as error:
        raise CatalogError(f"the {language.value} catalog {path} is not valid: {error}") from error


def _compiled(catalog: Catalog) -> Translations:
    """The catalog as gettext reads it. Fuzzy translations are left out: the English is shown instead."""
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def extracted(root: Path = ROOT) -> Catalog:
    """Every message in the code, with where it is used."""
    template = Catalog(project="salesbot", domain=DOMAIN, fuzzy=False)
    options = {"comment_tags": (COMMENT_TAG,), "keywords": KEYWORDS, "strip_comment_tags": True}
    for source in SOURCES:
        path = root / source
        if path.is_dir():
            found = extract_from_dir(path, method_map=[("**.py", "python")], **options)  # type: ignore[arg-type]
            for filename, lineno, message, comments, context in found:
                where = f"{source}/{filename}"
                template.add(message, locations=[(where, lineno)], auto_comments=comments, context=context)
        else:
            for lineno, message, comments, context in extract_from_file("python", path, **options):  # type: ignore[arg-type]
                template.add(message, locations=[(source, lineno)], auto_comments=comments, context=context)
    return template


def updated(template: Catalog, language: Language, locales: Path = LOCALES) -> Catalog:
    """The language's catalog with the template's messages: translations kept, new messages untranslated."""
    path = catalog_path(language, locales)
    if path.exists():
        catalog = read_catalog(language, locales)
    else:
        catalog = Catalog(locale=language.value, domain=DOMAIN, project="salesbot", fuzzy=False)
    catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
    catalog.obsolete.clear()
    return catalog


def po_text(catalog: Catalog) -> bytes:
    buffer = BytesIO()
    write_po(buffer, catalog, width=WIDTH, omit_header=False, ignore_obsolete=True, include_lineno=False)
    return buffer.getvalue()


def _stable(text: bytes) -> bytes:
    """The catalog without the header lines Babel rewrites on every run (creation and revision dates)."""
    keep = (b'"POT-Creation-Date', b'"PO-Revision-Date')
    return b"\n".join(line for line in text.splitlines() if not line.startswith(keep))


def refresh(locales: Path = LOCALES, *, check: bool = False) -> list[Path]:
    """Write the template and every language's catalog from the code; the files that changed (with `check`,
    the files that would change, and nothing is written)."""
    template = extracted()
    wanted = {locales / f"{DOMAIN}.pot": po_text(template)}
    for language in TRANSLATED:
        wanted[catalog_path(language, locales)] = po_text(updated(template, language, locales))
    changed = [
        path for path, text in wanted.items() if not path.exists() or _stable(path.read_bytes()) != _stable(text)
    ]
    if not check:
        for path in changed:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(wanted[path])
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m commands.i18n.catalogs", description=__doc__)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when a catalog is out of date")
    args = parser.parse_args(argv)
    changed = refresh(check=args.check)
    for path in changed:
        print(f"{'out of date' if args.check else 'updated'}: {path.relative_to(ROOT)}")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
