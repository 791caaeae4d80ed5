from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from livingroom.core.audit import audit_export_recorded
from livingroom.core.selectors import audit_events, audit_records

FIELDS = [
    "id",
    "at",
    "actor_kind",
    "actor",
    "action",
    "object_type",
    "object_id",
    "result",
    "ip",
    "request_id",
    "data",
]


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD): {value}") from exc


class Command(BaseCommand):
    help = "Exports audit events (time, actor, event, object, result) as JSON lines or CSV, for auditors."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--from", dest="date_from", help="first local date, YYYY-MM-DD")
        parser.add_argument("--to", dest="date_to", help="last local date, YYYY-MM-DD")
        parser.add_argument("--action", default="", help="only events whose action starts with this")
        parser.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
        parser.add_argument("--output", "-o", help="a file (default: standard output)")

    def handle(self, *args: Any, **options: Any) -> None:
        date_from, date_to = _date(options["date_from"]), _date(options["date_to"])
        if date_from and date_to and date_to < date_from:
            raise CommandError("--to is before --from")
        events = audit_events(date_from=date_from, date_to=date_to, action=options["action"])
        out = open(options["output"], "w", encoding="utf-8", newline="") if options["output"] else sys.stdout  # noqa: SIM115
        count = 0
        try:
            writer = csv.DictWriter(out, fieldnames=FIELDS) if options["format"] == "csv" else None
            if writer:
                writer.writeheader()
            for record in audit_records(events):
                if writer:
                    writer.writerow({**record, "data": json.dumps(record["data"], ensure_ascii=False)})
                else:
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
        finally:
            if out is not sys.stdout:
                out.close()
        audit_export_recorded(
            events=count,
            filters={"from": options["date_from"], "to": options["date_to"], "action": options["action"]},
            via="command",
        )
        self.stderr.write(f"{count} audit events exported")
