"""The message catalogs: up to date with the code, complete in every language, and true to each message's
placeholders, markup and command words."""

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message

from commands.i18n.catalogs import TRANSLATED, CatalogError, Translators, catalog_path, read_catalog, refresh
from commands.i18n.languages import Language

PLACEHOLDER = re.compile(r"\{(\w*)\}")
#: The grammar's words, the same in every language so a mixed team shares one syntax.
GRAMMAR = re.compile(r"/(?:deal|advance|pipeline)\b|\b(?:evidence|to|reason|value|company|stage|note):(?=\S)")
PLURAL_FORMS = {Language.ES: 2, Language.SV: 2, Language.RO: 3}


@pytest.fixture(scope="module", params=TRANSLATED, ids=lambda language: language.value)
def catalog(request: pytest.FixtureRequest) -> Catalog:
    return read_catalog(request.param)


def _messages(catalog: Catalog) -> list[Message]:
    return [message for message in catalog if message.id]


def _forms(message: Message) -> list[str]:
    string = message.string
    return [str(form or "") for form in string] if isinstance(string, tuple | list) else [string or ""]


def _translations(message: Message) -> list[str]:
    """The forms translated so far (an untranslated one is `test_every_message_is_translated`'s to report)."""
    return [form for form in _forms(message) if form]


def _ids(message: Message) -> list[str]:
    return list(message.id) if isinstance(message.id, tuple | list) else [message.id]


def test_the_catalogs_hold_every_message_in_the_code() -> None:
    """`python -m commands.i18n.catalogs` brings them up to date; this fails when someone forgot to run it."""
    assert refresh(check=True) == []


def test_every_message_is_translated(catalog: Catalog) -> None:
    missing = [_ids(message)[0] for message in _messages(catalog) if message.fuzzy or not all(_forms(message))]
    assert not missing, f"{len(missing)} untranslated in {catalog.locale}: {missing[:10]}"


def test_each_language_has_its_own_plural_forms(catalog: Catalog) -> None:
    language = Language(str(catalog.locale))
    assert catalog.num_plurals == PLURAL_FORMS[language]
    for message in _messages(catalog):
        if message.pluralizable:
            assert len(_forms(message)) == catalog.num_plurals, _ids(message)[0]


def test_translations_keep_the_placeholders(catalog: Catalog) -> None:
    """Every `{name}` of the English is in the translation and nothing else is: `{count}` may be left out of
    a form used only for one (Romanian "o tranzacție")."""
    wrong = []
    for message in _messages(catalog):
        wanted = {name for text in _ids(message) for name in PLACEHOLDER.findall(text)}
        for form in _translations(message):
            used = set(PLACEHOLDER.findall(form))
            if used - wanted or wanted - used - ({"count"} if message.pluralizable else set()):
                wrong.append((_ids(message)[0], form))
    assert not wrong, wrong[:5]


def test_translations_keep_the_markup_and_the_command_words(catalog: Catalog) -> None:
    """Backticks, bold and Slack's `<…>` tokens come in pairs as in the English; the grammar's words
    (`/deal new`, `evidence:`) stay as they are."""
    wrong = []
    for message in _messages(catalog):
        english = _ids(message)[-1]
        for form in _translations(message):
            if any(form.count(mark) != english.count(mark) for mark in ("`", "<", ">", "\n")):
                wrong.append(("markup", english, form))
            if form.count("*") % 2 != english.count("*") % 2:
                wrong.append(("bold", english, form))
            if sorted(GRAMMAR.findall(form)) != sorted(GRAMMAR.findall(english)):
                wrong.append(("grammar", english, form))
    assert not wrong, wrong[:5]


def test_every_catalog_loads(tmp_path: Path) -> None:
    translators = Translators.load()
    assert set(translators) == set(Language)


def test_a_broken_catalog_stops_the_start_up(tmp_path: Path) -> None:
    for language in TRANSLATED:
        path = catalog_path(language, tmp_path)
        path.parent.mkdir(parents=True)
        path.write_bytes(catalog_path(language).read_bytes())
    catalog_path(Language.SV, tmp_path).write_text('not gettext\nmsgid "x"\nmsgstr "y"\n', encoding="utf-8")
    with pytest.raises(CatalogError, match="sv"):
        Translators.load(tmp_path)
