"""The registry of personal data held about a resident, one section per app.

``people`` is the lowest domain layer and may not import booking, programs, meals…: each app
registers what it holds about a resident here, from its ``AppConfig.ready`` (its own
``personal_data.py``)::

    register("bookings", export=export, erase=erase)

* ``export(resident) -> dict`` returns everything the app holds about the resident, readable by
  the resident (their own data, decrypted): the resident's data download (``GET /api/v1/me/data``).
* ``erase(resident) -> dict`` carries out an erasure request for the app's rows: what the law lets
  go is deleted or anonymised, what the app must keep (ledgers, legal records) stays, pointing at
  the anonymised person; future bookings and enrolments are cancelled through the app's services
  so that seats are freed. It runs before the person is anonymised, each step in its own
  transaction, and must be safe to run again (a failed erasure is retried by the next clock pass).
  It returns counts for the audit log.

This module imports no service or selector (services call the erase hooks, selectors the export
hooks; the layers keep those two apart).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from livingroom.people.models import Resident

Export = Callable[["Resident"], dict[str, Any]]
Erase = Callable[["Resident"], dict[str, int]]


@dataclass(frozen=True)
class Section:
    name: str
    export: Export
    erase: Erase | None
    order: int


_sections: dict[str, Section] = {}


def register(name: str, *, export: Export, erase: Erase | None = None, order: int = 50) -> None:
    """Registers (or replaces, on a reload) an app's section. Erase hooks run by ``order`` (then
    name): one that cleans up after the others (the notices they may send) comes last."""
    _sections[name] = Section(name=name, export=export, erase=erase, order=order)


def sections() -> list[Section]:
    """Every registered section, in the order their erase hooks run."""
    return sorted(_sections.values(), key=lambda s: (s.order, s.name))


def export_sections(resident: Resident) -> dict[str, dict[str, Any]]:
    return {section.name: section.export(resident) for section in sections()}


def erase_sections(resident: Resident) -> dict[str, dict[str, int]]:
    return {section.name: section.erase(resident) for section in sections() if section.erase is not None}
