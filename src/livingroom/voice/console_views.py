"""Staff console pages of residents' voice, under /console/voice/: the request queue (with its
Excel export), recording a request heard at the desk or on the phone, a request with its timeline
and actions, extensions waiting for a decision, surveys (builder, live results, export, poster),
forums and home visits, the rates, and the settings (deadline rules and the working-day calendar).

Thin: they parse a form, call one service or selector, and put a refusal on the form it belongs
to. Another community's request, survey or forum is "not found" (404). Residents' names are
masked everywhere; exports too.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import segno
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext, pgettext_lazy

from livingroom.core.errors import DomainError, InvalidInput, PermissionDenied
from livingroom.core.excel import xlsx_response
from livingroom.core.formatting import format_date, format_datetime
from livingroom.core.masking import mask_name
from livingroom.core.permissions import staff_required, staff_scope_of
from livingroom.core.scopes import StaffScope
from livingroom.core.validators import parse_id
from livingroom.people import selectors as people_selectors
from livingroom.people.auth import acting_user
from livingroom.places import selectors as places_selectors
from livingroom.places import services as places_services
from livingroom.voice import errors, selectors, services
from livingroom.voice.console_forms import (
    ActionForm,
    AssignForm,
    CalendarDayForm,
    DayRemoveForm,
    DeadlineRuleForm,
    DecisionForm,
    EngagementForm,
    ExtensionForm,
    PhotoForm,
    PublishForm,
    QueueFilterForm,
    RatesForm,
    RecordForm,
    ResolveForm,
    RespondForm,
    SurveyForm,
    builder_initial,
    default_period,
    read_upload,
    show_error,
    survey_initial,
)
from livingroom.voice.models import (
    MAX_PHOTO_BYTES,
    Extension,
    Question,
    Suggestion,
    SuggestionEvent,
    Survey,
    is_supervisor,
)

LIST_LIMIT = 200
EXPORT_LIMIT = 5000
PHONE = re.compile(r"\+?[0-9 -]{11,16}")


def _not_found_of_page(exc: DomainError) -> bool:
    """A refusal that means the object is not the caller's to see: the page answers 404."""
    return exc.status == 404 and exc.field is None


def _failed(status: int) -> int:
    return 400 if status == 200 else status


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _late(s: Suggestion, now: dt.datetime) -> dict[str, bool]:
    """Which deadlines of a request have passed: red in the lists."""
    return {
        "respond_late": s.is_open and s.first_response_at is None and s.respond_by < now,
        "resolve_late": s.is_open and (s.overdue or s.resolve_by < now),
    }


def _resident_label(s: Suggestion) -> str:
    return s.resident.masked_name if s.resident_id and s.resident else ""


# --- the request queue --------------------------------------------------------------------------


def _queue(request: HttpRequest) -> tuple[QueueFilterForm, dict[str, Any], Any, bool]:
    scope = staff_scope_of(request)
    centers = list(selectors.staff_centers(scope).order_by("name"))
    form = QueueFilterForm(request.GET or None, centers=[(c.pk, c.name) for c in centers])
    valid = not form.is_bound or form.is_valid()
    filters = form.filters()
    return form, filters, selectors.staff_suggestions_filtered(scope, **filters), valid


@staff_required
def index(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    form, filters, qs, valid = _queue(request)
    now = timezone.now()
    shown = list(qs[:LIST_LIMIT])
    status_key = filters["status"] or "all"
    rest = {k: v for k, v in request.GET.items() if k not in ("status", "format")}
    tabs = [
        {"key": key, "label": label, "qs": urlencode({**rest, "status": key})}
        for key, label in form.fields["status"].choices  # type: ignore[attr-defined]
    ]
    return render(
        request,
        "voice/console_index.html",
        {
            "form": form,
            "rows": [{"s": s, **_late(s, now)} for s in shown],
            "more": max(qs.count() - LIST_LIMIT, 0) if len(shown) == LIST_LIMIT else 0,
            "counts": selectors.staff_queue_counts(scope),
            "tabs": tabs,
            "status": status_key,
            "export_qs": request.GET.urlencode(),
        },
        status=200 if valid else 400,
    )


@staff_required
def export(request: HttpRequest) -> HttpResponse:
    _form, _filters, qs, valid = _queue(request)
    if not valid:
        raise InvalidInput()
    return xlsx_response(
        "requests.xlsx",
        pgettext("residents' voice", "Requests"),
        [
            _("Tracking number"),
            _("Type"),
            _("Category"),
            _("Center"),
            _("Owner"),
            _("Channel"),
            _("Status"),
            _("Resident"),
            _("Received"),
            _("Respond by"),
            _("First response"),
            _("Resolve by"),
            _("Resolved"),
            _("Overdue"),
            _("Rating"),
            _("Reopened"),
            _("What it is about"),
        ],
        [
            [
                s.tracking_no,
                s.get_kind_display(),
                s.get_category_display(),
                s.center.name,
                s.owner_name,
                s.get_channel_display(),
                s.get_status_display(),
                _resident_label(s),
                format_datetime(s.received_at),
                format_datetime(s.respond_by),
                format_datetime(s.first_response_at),
                format_datetime(s.resolve_by),
                format_datetime(s.resolved_at),
                _("yes") if s.overdue else "",
                s.rating,
                s.reopen_count,
                s.text,
            ]
            for s in qs.select_related("resident")[:EXPORT_LIMIT]
        ],
    )


# --- record a request ---------------------------------------------------------------------------


@staff_required
def record(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    centers = [(c.pk, c.name) for c in selectors.staff_centers(scope).order_by("name")]
    form = RecordForm(
        request.POST or None,
        request.FILES or None,
        centers=centers,
        residents=scope.can_see_residents,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            resident_id = None
            phone = (d.get("phone") or "").strip()
            if phone:
                found = (
                    list(people_selectors.resident_search(scope, phone)[:2]) if PHONE.fullmatch(phone) else []
                )
                if len(found) != 1:
                    form.add_error("phone", _("No registered resident of your communities has this number."))
                else:
                    resident_id = found[0].pk
            if not form.errors:
                try:
                    created = services.suggestion_record(
                        staff=acting_user(request),
                        scope=scope,
                        draft=services.SuggestionDraft(
                            center_id=d["center"],
                            kind=d["kind"],
                            category=d["category"],
                            text=d["text"],
                            photos=[read_upload(f, MAX_PHOTO_BYTES) for f in d.get("photos") or []],
                        ),
                        channel=d["channel"],
                        resident_id=resident_id,
                    )
                except DomainError as exc:
                    status = show_error(form, exc, form.aliases())
                else:
                    messages.success(
                        request,
                        _("Request %(no)s is recorded; respond by %(due)s.")
                        % {"no": created.tracking_no, "due": format_datetime(created.respond_by)},
                    )
                    return redirect("voice_console:suggestion", suggestion_id=created.pk)
        status = _failed(status)
    return render(
        request, "voice/console_record.html", {"form": form, "has_centers": bool(centers)}, status=status
    )


# --- a request ----------------------------------------------------------------------------------

ACTIONS = ("assign", "respond", "extension", "resolve", "publish", "unpublish", "photo")
OPEN_ONLY = ("assign", "respond", "extension", "resolve")


def _actor(event: SuggestionEvent) -> str:
    actor = event.actor
    if actor is None:
        return _("The system")
    if actor.username:  # staff sign in by user name; residents by phone: their name is masked
        return actor.display_name or actor.username
    return mask_name(actor.display_name) if actor.display_name else _("Resident")


@staff_required
def suggestion(request: HttpRequest, suggestion_id: int) -> HttpResponse:
    scope = staff_scope_of(request)
    s = selectors.staff_suggestion(scope, suggestion_id)
    if s is None:
        raise errors.SuggestionNotFound()
    action = request.POST.get("action", "") if request.method == "POST" else ""
    data = request.POST if action else None

    def bound(name: str) -> Any:
        return data if action == name else None

    forms_: dict[str, Any] = {
        "assign": AssignForm(
            bound("assign"),
            prefix="assign",
            organizations=[(o.pk, o.name) for o in selectors.owner_choices(s)],
            center_name=s.center.name,
            initial={"organization": s.owner_organization_id},
        ),
        "respond": RespondForm(bound("respond"), prefix="respond"),
        "extension": ExtensionForm(bound("extension"), prefix="extension"),
        "resolve": ResolveForm(bound("resolve"), prefix="resolve", initial={"done_note": s.done_note}),
        "publish": PublishForm(
            bound("publish"),
            prefix="publish",
            initial={"summary": s.public_summary, "done_note": s.done_note},
        ),
        "photo": PhotoForm(bound("photo"), request.FILES if action == "photo" else None, prefix="photo"),
    }
    action_form = ActionForm()
    status = 200
    if action:
        staff = acting_user(request)
        target = forms_.get("publish" if action == "unpublish" else action, action_form)
        try:
            if action not in ACTIONS:
                raise InvalidInput(_("Unknown action."))
            if action == "unpublish":
                services.suggestion_publish(staff=staff, scope=scope, suggestion_id=s.pk, public=False)
                messages.success(request, _("The request is taken off the public board."))
                return redirect("voice_console:suggestion", suggestion_id=s.pk)
            form = forms_[action]
            if form.is_valid():
                d = form.cleaned_data
                if action == "assign":
                    done = services.suggestion_assign(
                        staff=staff,
                        scope=scope,
                        suggestion_id=s.pk,
                        organization_id=d["organization"],
                        note=d["note"],
                    )
                    text = _("Handed over to %(owner)s.") % {"owner": done.owner_name}
                elif action == "respond":
                    services.suggestion_respond(
                        staff=staff, scope=scope, suggestion_id=s.pk, message=d["message"]
                    )
                    text = _("Your message is sent to the resident; the request is in progress.")
                elif action == "extension":
                    services.extension_request(
                        staff=staff, scope=scope, suggestion_id=s.pk, days=d["days"], reason=d["reason"]
                    )
                    text = _("The extension is requested; a supervisor decides.")
                elif action == "resolve":
                    services.suggestion_resolve(
                        staff=staff,
                        scope=scope,
                        suggestion_id=s.pk,
                        reply=d["reply"],
                        done_note=d["done_note"],
                    )
                    text = _("The request is resolved; the resident is asked to rate it.")
                elif action == "publish":
                    services.suggestion_publish(
                        staff=staff,
                        scope=scope,
                        suggestion_id=s.pk,
                        public=True,
                        summary=d["summary"],
                        done_note=d["done_note"],
                    )
                    text = _("The request is on the public board.")
                else:
                    services.photo_add(
                        staff=staff,
                        scope=scope,
                        suggestion_id=s.pk,
                        kind=d["kind"],
                        data=read_upload(d["photo"], MAX_PHOTO_BYTES),
                    )
                    text = _("The photo is added.")
                messages.success(request, text)
                return redirect("voice_console:suggestion", suggestion_id=s.pk)
        except DomainError as exc:
            if _not_found_of_page(exc):
                raise
            status = show_error(target, exc)
            if action in OPEN_ONLY and not s.is_open:
                action_form.add_error(None, exc.message)  # that form is not on the page any more
        status = _failed(status)
    now = timezone.now()
    pending = next((e for e in s.extensions.all() if e.status == Extension.Status.PENDING), None)
    photos = list(s.photos.all())
    return render(
        request,
        "voice/console_suggestion.html",
        {
            "s": s,
            **_late(s, now),
            "resident": _resident_label(s),
            "events": [{"e": e, "actor": _actor(e)} for e in s.events.all()],
            "extensions": list(s.extensions.all()),
            "pending": pending,
            "photos": photos,
            "report_photos": [p for p in photos if p.kind == "report"],
            "staff_photos": [p for p in photos if p.kind != "report"],
            "forms": forms_,
            "action_form": action_form,
            "action": action,
            "is_open": s.is_open,
        },
        status=status,
    )


# --- extensions ---------------------------------------------------------------------------------


@staff_required
def extensions(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    form = DecisionForm(request.POST or None)
    failed: int | None = None
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        failed = parse_id(request.POST.get("extension"))
        try:
            if action not in ("approve", "refuse") or failed is None:
                raise errors.ExtensionNotFound()
            if form.is_valid():
                decided = services.extension_decide(
                    staff=acting_user(request),
                    scope=scope,
                    extension_id=form.cleaned_data["extension"],
                    approve=action == "approve",
                    note=form.cleaned_data.get("note") or "",
                )
                messages.success(
                    request,
                    (
                        _("Approved: %(no)s is now due %(due)s.")
                        if action == "approve"
                        else _("Refused: %(no)s keeps its deadline %(due)s.")
                    )
                    % {
                        "no": decided.suggestion.tracking_no,
                        "due": format_datetime(decided.suggestion.resolve_by),
                    },
                )
                return redirect("voice_console:extensions")
        except DomainError as exc:
            if _not_found_of_page(exc):
                raise
            status = show_error(form, exc)
        status = _failed(status)
    rows = [
        {
            "e": e,
            "can_decide": is_supervisor(scope, e.suggestion.center.community_id),
            "failed": failed == e.pk,
        }
        for e in selectors.pending_extensions(scope)[:LIST_LIMIT]
    ]
    return render(
        request,
        "voice/console_extensions.html",
        {
            "rows": rows,
            "form": form,
            "any_decide": any(r["can_decide"] for r in rows),
            "failed_shown": any(r["failed"] and r["can_decide"] for r in rows),
        },
        status=status,
    )


# --- surveys ------------------------------------------------------------------------------------

SURVEY_TABS = [
    ("", pgettext_lazy("filter", "All")),
    (Survey.Status.DRAFT, pgettext_lazy("survey status", "Draft")),
    (Survey.Status.PUBLISHED, pgettext_lazy("survey status", "Open")),
    (Survey.Status.CLOSED, pgettext_lazy("survey status", "Closed")),
]


def _area_choices(scope: StaffScope) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    communities = [(c.pk, c.name) for c in places_selectors.communities() if scope.covers_community(c.pk)]
    streets = [(r.id, r.name) for r in selectors.rate_scopes_for(scope) if r.kind == "street"]
    return communities, streets


def _survey_link(request: HttpRequest, survey_id: int) -> str:
    try:
        path = reverse("voice:survey", args=[survey_id])
    except NoReverseMatch:
        path = f"/surveys/{survey_id}/"
    return request.build_absolute_uri(path)


@staff_required
def surveys(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    shown = request.GET.get("status", "")
    if shown not in Survey.Status.values:
        shown = ""
    qs = selectors.surveys_for_staff(scope)
    if shown:
        qs = qs.filter(status=shown)
    communities, streets = _area_choices(scope)
    return render(
        request,
        "voice/console_surveys.html",
        {
            "rows": list(qs[:LIST_LIMIT]),
            "tabs": [{"key": k, "label": label} for k, label in SURVEY_TABS],
            "shown": shown,
            "can_create": bool(communities or streets or scope.district),
        },
    )


def _builder(request: HttpRequest, scope: StaffScope, survey: Survey | None) -> HttpResponse:
    communities, streets = _area_choices(scope)
    choices: dict[str, Any] = {"communities": communities, "streets": streets, "district": scope.district}
    template = "voice/console_survey_form.html"
    context: dict[str, Any] = {"survey": survey}
    if not (communities or streets or scope.district):
        return render(request, template, {**context, "form": None})
    status = 200
    if request.method != "POST":
        initial = survey_initial(survey) if survey else {}
        form = SurveyForm(initial=initial, rows=initial.get("rows", 3), **choices)
        return render(request, template, {**context, "form": form, "rows": form.question_rows()})
    action = request.POST.get("action", "save")
    if action == "add" or action.startswith("remove:"):
        removed = parse_id(action.partition(":")[2]) if action.startswith("remove:") else None
        initial, rows = builder_initial(
            request.POST, remove=removed - 1 if removed else None, add=action == "add"
        )
        form = SurveyForm(initial=initial, rows=rows, **choices)
        return render(request, template, {**context, "form": form, "rows": form.question_rows()})
    try:
        rows = int(request.POST.get("rows") or 1)
    except ValueError:
        rows = 1
    form = SurveyForm(request.POST, rows=rows, **choices)
    if form.is_valid():
        staff = acting_user(request)
        try:
            if survey is None:
                saved = services.survey_create(staff=staff, scope=scope, draft=form.draft())
            else:
                saved = services.survey_update(
                    staff=staff, scope=scope, survey_id=survey.pk, draft=form.draft()
                )
        except DomainError as exc:
            if _not_found_of_page(exc):
                raise
            status = show_error(form, exc)
        else:
            messages.success(
                request,
                _("“%(title)s” is saved as a draft; publish it when it is ready.") % {"title": saved.title},
            )
            return redirect("voice_console:survey", survey_id=saved.pk)
    status = _failed(status)
    return render(request, template, {**context, "form": form, "rows": form.question_rows()}, status=status)


@staff_required
def survey_new(request: HttpRequest) -> HttpResponse:
    return _builder(request, staff_scope_of(request), None)


def _staff_survey(scope: StaffScope, survey_id: int) -> Survey:
    found = selectors.survey_for_staff(scope, survey_id)
    if found is None:
        raise errors.SurveyNotFound()
    return found


@staff_required
def survey_edit(request: HttpRequest, survey_id: int) -> HttpResponse:
    scope = staff_scope_of(request)
    found = _staff_survey(scope, survey_id)
    if found.status != Survey.Status.DRAFT:
        messages.info(request, errors.SurveyNotEditable().message)
        return redirect("voice_console:survey", survey_id=found.pk)
    return _builder(request, scope, found)


def _chart(result: selectors.QuestionResult) -> dict[str, Any] | None:
    q = result.question
    if result.answered == 0 or q.kind not in (
        Question.Kind.SINGLE,
        Question.Kind.MULTIPLE,
        Question.Kind.RATING,
    ):
        return None  # nothing to draw: the page says "no answer yet"
    data = result.chart()
    return {"type": "pie" if q.kind == Question.Kind.SINGLE else "bar", "title": q.text, **data}


def _qr_svg(url: str, scale: int) -> str:
    return str(
        segno.make(url, error="m").svg_inline(
            scale=scale, border=2, dark="#111111", light="#ffffff", omitsize=True
        )
    )


@staff_required
def survey(request: HttpRequest, survey_id: int) -> HttpResponse:
    scope = staff_scope_of(request)
    found = _staff_survey(scope, survey_id)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    action_form = ActionForm()
    status = 200
    if action:
        staff = acting_user(request)
        try:
            if action == "publish":
                services.survey_publish(staff=staff, scope=scope, survey_id=found.pk)
                messages.success(request, _("The survey is open; share its link or poster."))
                return redirect("voice_console:survey", survey_id=found.pk)
            if action == "close":
                services.survey_close(staff=staff, scope=scope, survey_id=found.pk)
                messages.success(request, _("The survey is closed; no more answers are taken."))
                return redirect("voice_console:survey", survey_id=found.pk)
            raise InvalidInput(_("Unknown action."))
        except DomainError as exc:
            if _not_found_of_page(exc):
                raise
            status = _failed(show_error(action_form, exc))
    results = selectors.survey_results(found)
    link = _survey_link(request, found.pk)
    return render(
        request,
        "voice/console_survey.html",
        {
            "survey": found,
            "results": [{"r": r, "chart": _chart(r), "chart_id": f"chart-q{r.question.pk}"} for r in results],
            "link": link,
            "qr_svg": _qr_svg(link, 4) if found.status != Survey.Status.DRAFT else "",
            "action_form": action_form,
            "audience": selectors.audience_label(found.audience),
        },
        status=status,
    )


@staff_required
def survey_export(request: HttpRequest, survey_id: int) -> HttpResponse:
    found = _staff_survey(staff_scope_of(request), survey_id)
    header, rows = selectors.survey_answer_rows(found)
    header = [header[0], _("Given on"), *header[2:]]
    return xlsx_response(f"survey-{found.pk}.xlsx", found.title, header, rows)


@staff_required
def survey_poster(request: HttpRequest, survey_id: int) -> HttpResponse:
    found = _staff_survey(staff_scope_of(request), survey_id)
    link = _survey_link(request, found.pk)
    return render(
        request,
        "voice/console_survey_poster.html",
        {"survey": found, "link": link, "qr_svg": _qr_svg(link, 10)},
    )


# --- forums and visits --------------------------------------------------------------------------


@staff_required
def engagements(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    qs = selectors.engagements_for_staff(scope)
    return render(
        request,
        "voice/console_engagements.html",
        {
            "rows": list(qs[:LIST_LIMIT]),
            "can_record": selectors.staff_centers(scope).exists(),
        },
    )


@staff_required
def engagement_new(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    centers = [(c.pk, c.name) for c in selectors.staff_centers(scope).order_by("name")]
    form = EngagementForm(request.POST or None, centers=centers, initial={"held_on": timezone.localdate()})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                created = services.engagement_record(
                    staff=acting_user(request),
                    scope=scope,
                    center_id=d["center"],
                    kind=d["kind"],
                    held_on=d["held_on"],
                    place=d["place"],
                    participants=d["participants"],
                    topics=d["topics"],
                    notes=d.get("notes") or "",
                    raised=form.raised(),
                )
            except DomainError as exc:
                status = show_error(form, exc, {"center_id": "center", "raised": "", "text": ""})
            else:
                count = len(form.kept)
                messages.success(
                    request,
                    ngettext(
                        "Recorded, with %(n)s tracked request from what residents raised.",
                        "Recorded, with %(n)s tracked requests from what residents raised.",
                        count,
                    )
                    % {"n": count},
                )
                return redirect("voice_console:engagement", engagement_id=created.pk)
        status = _failed(status)
    return render(
        request,
        "voice/console_engagement_new.html",
        {
            "form": form,
            "main_fields": form.main_fields(),
            "raised_rows": form.rows(),
            "has_centers": bool(centers),
        },
        status=status,
    )


@staff_required
def engagement(request: HttpRequest, engagement_id: int) -> HttpResponse:
    scope = staff_scope_of(request)
    found = selectors.engagement_for_staff(scope, engagement_id)
    if found is None:
        raise Http404
    now = timezone.now()
    raised = list(
        found.suggestions.select_related("center", "owner_organization").order_by("received_at", "id")
    )
    return render(
        request,
        "voice/console_engagement.html",
        {"g": found, "rows": [{"s": s, **_late(s, now)} for s in raised]},
    )


# --- the rates ----------------------------------------------------------------------------------

RATE_DEFINITIONS: list[tuple[str, Any, Any]] = [
    (
        "response_rate",
        gettext_lazy("Response rate"),
        gettext_lazy("Requests first responded to by their respond-by time ÷ requests received."),
    ),
    (
        "resolution_rate",
        gettext_lazy("Resolution rate"),
        gettext_lazy("Requests resolved (resolved or closed now) ÷ requests received."),
    ),
    (
        "satisfaction_rate",
        gettext_lazy("Satisfaction rate"),
        gettext_lazy("Rated “very satisfied” or “satisfied” ÷ requests rated."),
    ),
    (
        "on_time_rate",
        gettext_lazy("On-time rate"),
        gettext_lazy("Resolved requests resolved by their resolve-by time ÷ requests resolved."),
    ),
    (
        "reopen_rate",
        gettext_lazy("Reopen rate"),
        gettext_lazy("Requests reopened at least once ÷ requests ever resolved."),
    ),
]


def _rate_parts(rates: selectors.Rates) -> dict[str, tuple[int, int]]:
    return {
        "response_rate": (rates.responded_on_time, rates.received),
        "resolution_rate": (rates.resolved, rates.received),
        "satisfaction_rate": (rates.satisfied, rates.rated),
        "on_time_rate": (rates.resolved_on_time, rates.resolved),
        "reopen_rate": (rates.reopened, rates.ever_resolved),
    }


def _scope_choices(scope: StaffScope) -> list[tuple[Any, Any]]:
    groups: dict[str, list[tuple[str, str]]] = {"district": [], "street": [], "center": []}
    for choice in selectors.rate_scopes_for(scope):
        if choice.kind == "district":
            groups["district"].append(("district", _("The whole district")))
        else:
            groups[choice.kind].append((f"{choice.kind}:{choice.id}", choice.name))
    out: list[tuple[Any, Any]] = list(groups["district"])
    if groups["street"]:
        out.append((_("Sub-districts"), groups["street"]))
    if groups["center"]:
        out.append((_("Centers"), groups["center"]))
    return out


def _first_choice(choices: list[tuple[Any, Any]]) -> str:
    for value, label in choices:
        if isinstance(label, list):
            return str(label[0][0]) if label else ""
        return str(value)
    return ""


@staff_required
def rates(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    choices = _scope_choices(scope)
    date_from, date_to = default_period(timezone.localdate())
    spec = _first_choice(choices)
    form = RatesForm(
        request.GET or None,
        scopes=choices,
        max_days=selectors.MAX_PERIOD_DAYS,
        initial={"scope": spec, "from": date_from, "to": date_to},
    )
    status = 200
    if form.is_bound:
        if form.is_valid():
            spec = form.cleaned_data["scope"]
            date_from = form.cleaned_data["from"] or date_from
            date_to = form.cleaned_data["to"] or max(date_from, date_to)
            if date_to < date_from or (date_to - date_from).days > selectors.MAX_PERIOD_DAYS:
                form.add_error("to", errors.PeriodInvalid().message)
                status = 400
        else:
            status = 400
    target = None
    if status == 200 and spec:
        try:
            target = selectors.rate_scope(scope, spec)
        except ValueError:
            target = None
        if target is None:
            raise Http404
    totals = selectors.rates(scope, target, date_from, date_to) if target else None
    per_center = selectors.rates_by_center(scope, target, date_from, date_to) if target else []
    query = urlencode({"scope": spec, "from": date_from.isoformat(), "to": date_to.isoformat()})
    if request.GET.get("format") == "xlsx" and target is not None:
        return xlsx_response(
            f"rates-{format_date(date_from)}-{format_date(date_to)}.xlsx",
            _("Rates"),
            [
                _("Center"),
                _("Received"),
                _("Responded on time"),
                _("Resolved"),
                _("Rated"),
                _("Satisfied"),
                _("Response rate"),
                _("Resolution rate"),
                _("Satisfaction rate"),
                _("On-time rate"),
                _("Reopen rate"),
                _("Average hours to first response"),
            ],
            [
                [
                    center.name,
                    r.received,
                    r.responded_on_time,
                    r.resolved,
                    r.rated,
                    r.satisfied,
                    r.response_rate,
                    r.resolution_rate,
                    r.satisfaction_rate,
                    r.on_time_rate,
                    r.reopen_rate,
                    r.average_response_hours,
                ]
                for center, r in per_center
            ],
        )
    cards = []
    if totals is not None:
        parts = _rate_parts(totals)
        for key, label, definition in RATE_DEFINITIONS:
            part, whole = parts[key]
            cards.append(
                {
                    "key": key,
                    "label": label,
                    "definition": definition,
                    "value": _pct(getattr(totals, key)),
                    "part": part,
                    "whole": whole,
                }
            )
    charted = [(c, r) for c, r in per_center if r.received]
    chart = {
        "type": "grouped",
        "labels": [c.name for c, _r in charted],
        "series": [
            {"name": str(_("Response rate")), "values": [r.response_rate for _c, r in charted]},
            {"name": str(_("Resolution rate")), "values": [r.resolution_rate for _c, r in charted]},
            {"name": str(_("Satisfaction rate")), "values": [r.satisfaction_rate for _c, r in charted]},
        ],
        "unit": "%",
    }
    return render(
        request,
        "voice/console_rates.html",
        {
            "form": form,
            "target": target,
            "scope_name": (target.name or _("The whole district")) if target else "",
            "date_from": date_from,
            "date_to": date_to,
            "totals": totals,
            "cards": cards,
            "average_hours": None if totals is None else totals.average_response_hours,
            "quiet": [c for c, r in per_center if not r.received],
            "rows": [
                {
                    "center": c,
                    "r": r,
                    "response": _pct(r.response_rate),
                    "resolution": _pct(r.resolution_rate),
                    "satisfaction": _pct(r.satisfaction_rate),
                    "on_time": _pct(r.on_time_rate),
                    "reopen": _pct(r.reopen_rate),
                }
                for c, r in charted
            ],
            "chart": chart,
            "chart_height": 120 + 70 * len(charted),
            "export_qs": query + "&format=xlsx",
        },
        status=status,
    )


# --- settings -----------------------------------------------------------------------------------


def _label(choices: Any, value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


def _year(raw: str | None, today: dt.date) -> int:
    value = parse_id(raw)
    return value if value is not None and 2000 <= value <= 2100 else today.year


@staff_required
def settings_page(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    today = timezone.localdate()
    year = _year(request.GET.get("year"), today)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    rule_form = DeadlineRuleForm(request.POST if action == "rule_set" else None, prefix="rule")
    day_form = CalendarDayForm(request.POST if action == "day_set" else None, prefix="day")
    action_form = ActionForm()
    status = 200
    if action:
        if not scope.district:
            raise PermissionDenied(_("Deadlines and the calendar are kept by district officials."))
        staff = acting_user(request)
        back = f"{reverse('voice_console:settings')}?{urlencode({'year': year})}"
        try:
            if action == "rule_set":
                if rule_form.is_valid():
                    d = rule_form.cleaned_data
                    services.deadline_rule_set(
                        staff=staff,
                        scope=scope,
                        kind=d["kind"],
                        category=d.get("category") or "",
                        respond_days=d["respond_days"],
                        resolve_days=d["resolve_days"],
                    )
                    messages.success(request, _("The deadline rule is saved; new requests follow it."))
                    return redirect(back)
            elif action == "rule_delete":
                rule_id = parse_id(request.POST.get("rule"))
                if rule_id is None:
                    raise Http404
                services.deadline_rule_delete(staff=staff, scope=scope, rule_id=rule_id)
                messages.success(request, _("The deadline rule is deleted."))
                return redirect(back)
            elif action == "day_set":
                if day_form.is_valid():
                    d = day_form.cleaned_data
                    places_services.calendar_day_set(
                        scope=scope, day=d["day"], kind=d["kind"], name=d.get("name") or "", actor=staff
                    )
                    messages.success(
                        request, _("%(day)s is in the calendar.") % {"day": format_date(d["day"])}
                    )
                    return redirect(
                        f"{reverse('voice_console:settings')}?{urlencode({'year': d['day'].year})}"
                    )
            elif action == "day_remove":
                remove_form = DayRemoveForm(request.POST)
                if not remove_form.is_valid():
                    raise InvalidInput(field="day")
                day = remove_form.cleaned_data["day"]
                if places_services.calendar_day_remove(scope=scope, day=day, actor=staff):
                    messages.success(
                        request,
                        _("%(day)s is an ordinary day again (working on weekdays).")
                        % {"day": format_date(day)},
                    )
                return redirect(back)
            else:
                raise InvalidInput(_("Unknown action."))
        except DomainError as exc:
            if _not_found_of_page(exc):
                raise
            target = rule_form if action == "rule_set" else day_form if action == "day_set" else action_form
            status = show_error(target, exc, {"day": "day"})
        status = _failed(status)
    return render(
        request,
        "voice/console_settings.html",
        {
            "rules": [
                {
                    "r": r,
                    "kind": _label(Suggestion.Kind, r.kind),
                    "category": _label(Suggestion.Category, r.category) if r.category else "",
                }
                for r in selectors.deadline_rules()
            ],
            "defaults": [
                {"kind": Suggestion.Kind(kind).label, "respond": days[0], "resolve": days[1]}
                for kind, days in services.DEFAULT_DEADLINES.items()
            ],
            "days": list(places_selectors.calendar_days(year=year)),
            "year": year,
            "years": [year - 1, year, year + 1],
            "can_edit": scope.district,
            "rule_form": rule_form,
            "day_form": day_form,
            "action_form": action_form,
        },
        status=status,
    )
