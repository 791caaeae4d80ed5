"""The page shell: home, elderly mode, console home."""

from __future__ import annotations

import json
from typing import Any

from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from livingroom.core.audit import audit_export_recorded, audit_retention_days
from livingroom.core.excel import xlsx_response
from livingroom.core.permissions import staff_required, staff_scope_of
from livingroom.core.selectors import audit_events_for, audit_records
from livingroom.people.selectors import resident_eligibilities, resident_of, residents_for_staff
from livingroom.places.selectors import (
    center_areas,
    center_detail,
    centers_for_staff,
    home_center_id,
    public_centers,
    streets,
)
from livingroom.web.console_forms import AuditFilterForm
from livingroom.web.context_processors import ELDERLY_COOKIE

AUDIT_PAGE_ROWS = 200
AUDIT_EXPORT_ROWS = 100_000


def home(request: HttpRequest) -> HttpResponse:
    resident = resident_of(request.user) if request.user.is_authenticated else None  # type: ignore[arg-type]
    context: dict = {"resident": resident}
    center_id = home_center_id(resident.home_community_id) if resident is not None else None
    if resident is not None:
        context["eligibilities"] = resident_eligibilities(resident)
    if center_id is not None:
        center = center_detail(center_id)
        context.update(center=center, areas=center_areas(center))
    if center_id is None:
        context["street_list"] = streets().annotate(n=Count("communities"))
        context["featured"] = public_centers().filter(renovated_on__isnull=False)[:6]
    return render(request, "web/home.html", context)


@require_POST
def toggle_elderly(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    response = HttpResponseRedirect(target)
    if request.COOKIES.get(ELDERLY_COOKIE) == "1":
        response.delete_cookie(ELDERLY_COOKIE)
    else:
        response.set_cookie(ELDERLY_COOKIE, "1", max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@staff_required
def console_home(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    rows: list[Any] = list(centers_for_staff(scope))  # annotated with areas
    service = sum(c.service_area for c in rows)
    office = sum(c.office_area for c in rows)
    return render(
        request,
        "web/console_home.html",
        {
            "center_count": len(rows),
            "community_count": len({c.community_id for c in rows}),
            "resident_count": residents_for_staff(scope).count(),
            "service_area": service,
            "office_area": office,
            "office_share": float(office / (service + office)) if (service + office) else None,
            "renovated": [c for c in rows if c.office_share_before is not None][:10],
        },
    )


@staff_required
def console_audit(request: HttpRequest) -> HttpResponse:
    """The audit log: every write and every view of personal data, with time, who, event, object
    and result. District officials only (auditors); the export is itself recorded."""
    scope = staff_scope_of(request)
    form = AuditFilterForm(request.GET or None)
    valid = form.is_valid() if request.GET else True
    data = form.cleaned_data if request.GET and valid else {}
    events = audit_events_for(
        scope,
        date_from=data.get("from"),
        date_to=data.get("to"),
        action=data.get("action", ""),
        actor=data.get("actor", ""),
        result=data.get("result", ""),
    )
    if valid and request.GET.get("format") == "xlsx":
        records = list(audit_records(events[:AUDIT_EXPORT_ROWS]))
        audit_export_recorded(actor=request.user, events=len(records), filters=data, via="console")
        return xlsx_response(
            "audit-log.xlsx",
            _("Audit log"),
            [
                _("When"),
                _("Who"),
                _("Event"),
                _("Object"),
                _("Result"),
                _("IP address"),
                _("Request"),
                _("Details"),
            ],
            [
                [
                    r["at"],
                    r["actor"],
                    r["action"],
                    f"{r['object_type']}#{r['object_id']}" if r["object_type"] else "",
                    r["result"],
                    r["ip"],
                    r["request_id"],
                    json.dumps(r["data"], ensure_ascii=False),
                ]
                for r in records
            ],
        )
    query = request.GET.copy()
    query["format"] = "xlsx"
    return render(
        request,
        "web/console_audit.html",
        {
            "form": form,
            "events": list(events[:AUDIT_PAGE_ROWS]) if valid else [],
            "limit": AUDIT_PAGE_ROWS,
            "retention_days": audit_retention_days(),
            "export_qs": query.urlencode(),
        },
        status=200 if valid else 400,
    )
