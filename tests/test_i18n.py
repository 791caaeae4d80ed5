"""Simplified Chinese is complete, English is the source language, and the .mo files are current."""

import gettext
from pathlib import Path

import polib
import pytest
from django.utils import translation

LOCALE = Path(__file__).resolve().parent.parent / "src" / "livingroom" / "locale"
PO = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_chinese_catalogue_is_complete():
    po = polib.pofile(str(PO))
    missing = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not missing, f"untranslated: {missing[:10]}"
    assert not fuzzy, f"fuzzy: {fuzzy[:10]}"
    for entry in po.translated_entries():
        for placeholder in ("%(", "%s", "%d"):
            assert entry.msgid.count(placeholder) == (entry.msgstr or entry.msgstr_plural.get(0, "")).count(
                placeholder
            ), entry.msgid


def test_compiled_catalogue_matches_the_po_file():
    po = polib.pofile(str(PO))
    with PO.with_suffix(".mo").open("rb") as handle:
        mo = gettext.GNUTranslations(handle)
    for entry in po.translated_entries():
        if entry.msgid_plural:
            compiled = mo.ngettext(entry.msgid, entry.msgid_plural, 1)
            expected = entry.msgstr_plural[0]
        else:
            compiled = mo.pgettext(entry.msgctxt, entry.msgid) if entry.msgctxt else mo.gettext(entry.msgid)
            expected = entry.msgstr
        assert compiled == expected, f"{entry.msgid!r} differs: run `make messages`"


@pytest.mark.parametrize(("lang", "text"), [("zh-hans", "百姓客厅"), ("en", "People's Living Room")])
def test_product_name_in_both_languages(lang, text):
    with translation.override(lang):
        assert translation.gettext("People's Living Room") == text
