"""Every catalog compiles and translates every message."""

import pytest
from babel.messages.pofile import read_po

from app import i18n
from app.languages import LANGUAGES
from app.routing.needs import NEED_LABELS, Need


def test_there_is_a_catalog_for_each_of_the_twelve_languages():
    locales = {path.parent.parent.name for path in i18n.catalog_paths()}
    assert locales == {i18n.BABEL_LOCALE[code] for code in LANGUAGES}


@pytest.mark.parametrize("path", i18n.catalog_paths(), ids=lambda p: p.parent.parent.name)
def test_catalog_is_complete(path):
    with path.open("rb") as handle:
        catalog = read_po(handle)
    untranslated = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    assert untranslated == []


@pytest.mark.parametrize("language", sorted(set(LANGUAGES) - {"en"}))
def test_compiled_catalogs_translate_need_labels(language):
    i18n.compile_catalogs()
    label = i18n.gettext(language, NEED_LABELS[Need.LEGAL_AID])
    assert label and label != "Legal aid"


def test_dari_is_found_under_both_of_its_codes():
    i18n.compile_catalogs()
    assert i18n.gettext("prs", "Information") == i18n.gettext("fa-AF", "Information")
    assert i18n.gettext("prs", "Information") != i18n.gettext("fa", "Information")
