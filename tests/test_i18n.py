"""Simplified Chinese is complete, English is the source language, and the .mo files are current."""

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
    mo = polib.mofile(str(PO.with_suffix(".mo")))
    compiled = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural for e in mo}
    for entry in po.translated_entries():
        assert compiled.get((entry.msgctxt, entry.msgid)) == (entry.msgstr or entry.msgstr_plural), (
            f"{entry.msgid!r} differs: run `make messages`"
        )


@pytest.mark.parametrize(("lang", "text"), [("zh-hans", "百姓客厅"), ("en", "People's Living Room")])
def test_product_name_in_both_languages(lang, text):
    with translation.override(lang):
        assert translation.gettext("People's Living Room") == text
