"""Compiles the .po catalogues to .mo with polib (no GNU gettext needed on the machine)."""

from __future__ import annotations

from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parent.parent / "src" / "livingroom" / "locale"


def main() -> int:
    for po_path in sorted(LOCALE.glob("*/LC_MESSAGES/django.po")):
        po = polib.pofile(str(po_path))
        po.save_as_mofile(str(po_path.with_suffix(".mo")))
        print(f"{po_path.relative_to(LOCALE)}: {po.percent_translated()}% translated")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
