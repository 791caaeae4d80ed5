"""Pages about people: resident sign-in, profile and pass; staff sign-in; the console's residents."""

from __future__ import annotations

import json

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from livingroom.core.errors import DomainError
from livingroom.core.excel import xlsx_response
from livingroom.core.forms import add_domain_error
from livingroom.core.masking import mask_phone
from livingroom.core.middleware import client_ip
from livingroom.core.permissions import resident_required, staff_required, staff_scope_of
from livingroom.people import selectors, services
from livingroom.people.auth import METHOD_SMS, METHOD_STAFF, acting_user, end_session, start_session
from livingroom.people.forms import (
    CodeForm,
    PhoneForm,
    ProfileForm,
    RevealForm,
    StaffLoginForm,
    VerificationForm,
)
from livingroom.people.models import Dependant, SmsOutbox
from livingroom.people.scopes import staff_scope
from livingroom.places.selectors import communities, streets

SESSION_PHONE = "login_phone"


def _next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# --- resident sign-in ------------------------------------------------------------------------


def login_phone(request: HttpRequest) -> HttpResponse:
    form = PhoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.sms_code_request(phone=form.cleaned_data["phone"], ip=client_ip(request))
        except DomainError as exc:
            if exc.code != "sms_resend_too_soon":
                add_domain_error(form, exc)
            else:
                messages.info(request, exc.message)
                request.session[SESSION_PHONE] = form.cleaned_data["phone"]
                return redirect(f"{_code_url()}?next={_next_url(request, '/')}")
        else:
            request.session[SESSION_PHONE] = form.cleaned_data["phone"]
            messages.success(request, _("A verification code was sent to your phone."))
            return redirect(f"{_code_url()}?next={_next_url(request, '/')}")
    return render(request, "people/login_phone.html", {"form": form, "next": _next_url(request, "/")})


def _code_url() -> str:
    return reverse("people:login-code")


def login_code(request: HttpRequest) -> HttpResponse:
    phone = request.session.get(SESSION_PHONE)
    if not phone:
        return redirect("people:login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.resident_login_with_sms(phone=phone, code=form.cleaned_data["code"])
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            start_session(request, user, method=METHOD_SMS)
            if selectors.resident_of(user) is None:
                return redirect("people:profile")
            return redirect(_next_url(request, "/"))
    return render(
        request,
        "people/login_code.html",
        {
            "form": form,
            "phone_masked": mask_phone(phone),
            "next": _next_url(request, "/"),
            "show_outbox": settings.DEBUG,
        },
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    staff = request.session.get("auth_method") == METHOD_STAFF
    end_session(request)
    return redirect("people:console-login" if staff else "web:home")


# --- resident profile and pass ----------------------------------------------------------------


def _community_choices() -> list[tuple[str, list[tuple[int, str]]]]:
    by_street: dict[int, list[tuple[int, str]]] = {}
    for c in communities():
        by_street.setdefault(c.street_id, []).append((c.pk, c.name))
    return [(s.name, by_street.get(s.pk, [])) for s in streets()]


@resident_required
def profile(request: HttpRequest) -> HttpResponse:
    resident = selectors.resident_of(request.user)  # type: ignore[arg-type]
    initial = {}
    if resident:
        initial = {"real_name": resident.real_name, "home_community": resident.home_community_id}
    form = ProfileForm(request.POST or None, initial=initial, communities=_community_choices())
    if request.method == "POST" and form.is_valid():
        try:
            services.resident_profile_update(
                user=request.user,  # type: ignore[arg-type]
                real_name=form.cleaned_data["real_name"],
                id_number=form.cleaned_data["id_number"],
                home_community_id=form.cleaned_data["home_community"],
                consent=form.cleaned_data["consent"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("web:home")
    return render(
        request,
        "people/profile.html",
        {
            "form": form,
            "resident": resident,
            "eligibilities": selectors.resident_eligibilities(resident) if resident else [],
        },
    )


def _qr_svg(token: str) -> str:
    return segno.make(token, error="m").svg_inline(scale=7, border=2, dark="#111111", light="#ffffff")


@resident_required
def resident_pass(request: HttpRequest) -> HttpResponse:
    resident = selectors.resident_of(request.user)  # type: ignore[arg-type]
    if resident is None:
        messages.info(request, _("Please complete your real-name profile first."))
        return redirect("people:profile")
    return render(request, "people/pass.html", {"resident": resident, **_pass_context(request)})


def _pass_context(request: HttpRequest) -> dict:
    issued = services.resident_pass_issue(user=request.user)  # type: ignore[arg-type]
    return {
        "qr_svg": _qr_svg(issued.token),
        "issued": issued,
        "pass_token": issued.token,
        "ttl": settings.LIVINGROOM_PASS_TTL,
    }


@resident_required
def resident_pass_qr(request: HttpRequest) -> HttpResponse:
    """The htmx fragment that replaces the QR code every 30 seconds."""
    try:
        context = _pass_context(request)
    except DomainError:
        raise Http404 from None
    return render(request, "people/_pass_qr.html", context)


def dev_sms_outbox(request: HttpRequest) -> HttpResponse:
    """Development only: the latest messages of the outbox SMS backend."""
    if not settings.DEBUG:
        raise Http404
    return render(request, "people/dev_sms.html", {"messages_out": SmsOutbox.objects.all()[:20]})


# --- staff sign-in ----------------------------------------------------------------------------


def console_login(request: HttpRequest) -> HttpResponse:
    form = StaffLoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.staff_authenticate(**form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            if staff_scope(user) is None:
                form.add_error(None, _("This account has no staff role."))
            else:
                start_session(request, user, method=METHOD_STAFF)
                return redirect(_next_url(request, "/console/"))
    return render(
        request, "people/console_login.html", {"form": form, "next": _next_url(request, "/console/")}
    )


# --- console: residents -----------------------------------------------------------------------


@staff_required
def console_residents(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")[:60]
    found = list(selectors.resident_search(staff_scope_of(request), q, limit=100))  # type: ignore[attr-defined]
    today = timezone.localdate()
    rows = [(r, r.age_on(today)) for r in found]
    if request.GET.get("format") == "xlsx":
        return xlsx_response(
            "residents.xlsx",
            _("Residents"),
            [_("Name"), _("ID number"), _("Mobile"), _("Sex"), _("Age"), _("Community")],
            [
                [
                    r.masked_name,
                    r.masked_id_number,
                    r.user.masked_phone,
                    r.get_sex_display(),
                    age,
                    r.home_community.name,
                ]
                for r, age in rows
            ],
        )
    return render(request, "people/console_residents.html", {"q": q, "rows": rows})


@staff_required
def console_resident(request: HttpRequest, resident_id: int) -> HttpResponse:
    scope = staff_scope_of(request)
    resident = selectors.resident_for_staff(scope, resident_id)
    revealed = None
    reveal_form = RevealForm(request.POST if request.POST.get("action") == "reveal" else None)
    verifying = request.POST.get("action") == "verify"
    verify_form = VerificationForm(request.POST if verifying else None, request.FILES if verifying else None)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "reveal" and reveal_form.is_valid():
                revealed = services.resident_reveal_id_number(
                    scope=scope,
                    actor=acting_user(request),
                    resident=resident,
                    reason=reveal_form.cleaned_data["reason"],
                )
            elif request.POST.get("action") == "verify" and verify_form.is_valid():
                fields = {k: v for k, v in verify_form.cleaned_data.items() if k != "credential_photo"}
                services.eligibility_verify(
                    scope=scope,
                    actor=acting_user(request),
                    resident=resident,
                    credential_photo=verify_form.photo_bytes(),
                    **fields,
                )
                messages.success(request, _("The verification is recorded."))
                return redirect("people:console-resident", resident_id=resident.pk)
        except DomainError as exc:
            add_domain_error(verify_form if request.POST.get("action") == "verify" else reveal_form, exc)
    return render(
        request,
        "people/console_resident.html",
        {
            "resident": resident,
            "revealed": revealed,
            "reveal_form": reveal_form,
            "verify_form": verify_form,
            "eligibilities": selectors.resident_eligibilities(resident),
            "verifications": selectors.verifications_of(resident),
            "can_act": scope.works_at(resident.home_community_id),
            "age": resident.age_on(timezone.localdate()),
        },
    )


@staff_required
def console_credential_photo(request: HttpRequest, resident_id: int, verification_id: int) -> HttpResponse:
    """The photo of a resident's credential, for staff who may see the resident; each viewing is
    recorded in the audit log."""
    scope = staff_scope_of(request)
    resident = selectors.resident_for_staff(scope, resident_id)
    photo = services.credential_photo_view(
        scope=scope, actor=acting_user(request), resident=resident, verification_id=verification_id
    )
    response = HttpResponse(photo, content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- family members (dependants) ---------------------------------------------------------------


class DependantForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Real name"), max_length=50, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    birth_date = forms.DateField(
        label=gettext_lazy("Birth date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    relation = forms.ChoiceField(
        label=gettext_lazy("Relation to you"),
        choices=[("", gettext_lazy("Choose")), *Dependant.Relation.choices],
    )


@resident_required
def family(request: HttpRequest) -> HttpResponse:
    """The family members a resident signs up for courses (a child, a parent): list, add, remove."""
    resident = selectors.resident_of(request.user)  # type: ignore[arg-type]
    if resident is None:
        messages.info(request, _("Please complete your real-name profile first."))
        return redirect("people:profile")
    back = _next_url(request, "")
    form = DependantForm(request.POST or None)
    form.fields["birth_date"].widget.attrs["max"] = timezone.localdate().isoformat()
    if request.method == "POST" and form.is_valid():
        try:
            dependant = services.dependant_add(user=request.user, **form.cleaned_data)  # type: ignore[arg-type]
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request, _("%(name)s is added to your family members.") % {"name": dependant.name}
            )
            return redirect(back or "people:family")
    today = timezone.localdate()
    return render(
        request,
        "people/family.html",
        {
            "form": form,
            "rows": [(d, d.age_on(today)) for d in selectors.dependants_of(resident)],
            "back": back,
        },
    )


@resident_required
@require_POST
def family_remove(request: HttpRequest, dependant_id: int) -> HttpResponse:
    try:
        dependant = services.dependant_remove(user=request.user, dependant_id=dependant_id)  # type: ignore[arg-type]
    except DomainError as exc:
        if exc.status == 404:
            raise
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("%(name)s is removed from your family members.") % {"name": dependant.name}
        )
    return redirect("people:family")


# --- personal data: download and erasure --------------------------------------------------------


@resident_required
def my_data_download(request: HttpRequest) -> HttpResponse:
    """Everything held about me as a JSON file (the same document as ``GET /api/v1/me/data``)."""
    document = services.personal_data_export(user=request.user)  # type: ignore[arg-type]
    day = timezone.localdate().isoformat()
    response = HttpResponse(
        json.dumps(document, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="livingroom-my-data-{day}.json"'
    response["Cache-Control"] = "private, no-store"
    return response


class ErasureForm(forms.Form):
    confirm = forms.BooleanField(
        label=gettext_lazy("I understand what will happen and want my personal data erased."),
        required=True,
    )


@resident_required
def erasure(request: HttpRequest) -> HttpResponse:
    """Ask for erasure (with a confirmation and what will happen), or cancel a waiting request."""
    user = request.user
    form = ErasureForm(request.POST if request.POST.get("action") == "request" else None)
    if request.method == "POST" and request.POST.get("action") == "cancel":
        try:
            services.erasure_cancel(user=user)  # type: ignore[arg-type]
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Your erasure request is cancelled. Nothing was erased."))
        return redirect("people:erasure")
    if request.method == "POST":
        try:
            if form.is_valid():
                done = services.erasure_request(user=user)  # type: ignore[arg-type]
                messages.success(
                    request,
                    _("Your request is recorded. Your data will be erased from %(due)s.")
                    % {"due": timezone.localtime(done.due_at).strftime("%Y-%m-%d %H:%M")},
                )
                return redirect("people:erasure")
        except DomainError as exc:
            add_domain_error(form, exc)
    try:
        pending = selectors.erasure_pending_of(user)  # type: ignore[arg-type]
    except DomainError:
        pending = None
    return render(request, "people/erasure.html", {"form": form, "pending": pending})
