"""Resident and public pages of residents' voice: the open surveys and answering one (signed in,
or as a visitor for an anonymous survey open to everyone), submitting a request with photos, my
requests, one request (all of it for its resident: deadlines, reply, timeline, rating, reopening;
the public view for others when it is on the board), the public board, and the photos.

Thin: parse, call one service or selector, render. A service's refusal is shown on the form that
is shown again, or as a message when the page no longer offers that form."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from livingroom.core.errors import DomainError, NotFound
from livingroom.core.forms import add_domain_error
from livingroom.core.permissions import resident_required
from livingroom.people.auth import session_staff_scope
from livingroom.people.models import User
from livingroom.people.selectors import resident_of
from livingroom.places.selectors import home_center_id, public_centers
from livingroom.voice import errors, selectors, services
from livingroom.voice.forms import (
    BoardFilterForm,
    RatingForm,
    ReopenForm,
    SuggestionForm,
    SurveyAnswerForm,
    center_choices,
)
from livingroom.voice.models import MAX_PHOTO_BYTES, Suggestion

VISITOR_COOKIE = "lr_visitor"
VISITOR_SALT = "livingroom.voice.visitor"
VISITOR_MAX_AGE = 365 * 24 * 3600
BOARD_PAGE = 20
MINE_LIMIT = 200
# Refusals about a photo that the photo check raises without naming the field.
PHOTO_ERRORS = (errors.PhotoType, errors.PhotoTooLarge, errors.PhotoInvalid, errors.TooManyPhotos)


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _user_or_none(request: HttpRequest) -> User | None:
    return _user(request) if request.user.is_authenticated else None


def _to_login(request: HttpRequest) -> HttpResponse:
    return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)


# --- surveys ------------------------------------------------------------------------------------


@require_GET
def survey_list(request: HttpRequest) -> HttpResponse:
    """The open surveys of my area (the district-wide ones for someone not signed in)."""
    user = _user_or_none(request)
    found = selectors.surveys_open_for(user)
    answered = {s.pk for s in found if selectors.has_answered(s, user)}
    return render(request, "voice/surveys.html", {"surveys": found, "answered": answered})


def _visitor_token(request: HttpRequest) -> tuple[str, bool]:
    """The visitor's random token from the signed cookie, or a new one (and True: set it)."""
    token = request.get_signed_cookie(VISITOR_COOKIE, default="", salt=VISITOR_SALT)
    if isinstance(token, str) and 16 <= len(token) <= 80:
        return token, False
    return secrets.token_urlsafe(24), True


def _keep_token(request: HttpRequest, response: HttpResponse, token: str | None, new: bool) -> HttpResponse:
    if token and new:
        response.set_signed_cookie(
            VISITOR_COOKIE,
            token,
            salt=VISITOR_SALT,
            max_age=VISITOR_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response


@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest, survey_id: int) -> HttpResponse:
    """Answer a survey once. Someone not signed in may answer only an anonymous survey open to
    everyone (a random token in a signed cookie stands for them); others are sent to sign in."""
    found = selectors.survey_for_answer(survey_id)
    if found is None:
        raise errors.SurveyNotFound()
    user = _user_or_none(request)
    if user is None and not found.open_to_visitors:
        return _to_login(request)
    token, new_token = (None, False) if user is not None else _visitor_token(request)
    if user is not None:
        answered = selectors.has_answered(found, user)
    else:
        answered = selectors.visitor_has_answered(found, services.visitor_hash(found.pk, token or ""))
    form = SurveyAnswerForm(request.POST if request.method == "POST" else None, survey=found)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.response_submit(
                    survey_id=found.pk, user=user, answers=form.answers(), visitor_token=token
                )
            except errors.SignInToAnswer:
                return _to_login(request)
            except DomainError as exc:
                if exc.status == 404:
                    raise
                if exc.status == 409:  # answered already, or closed: the page shows which
                    messages.info(request, exc.message)
                    return _keep_token(
                        request, redirect("voice:survey", survey_id=found.pk), token, new_token
                    )
                add_domain_error(form, exc)
            else:
                messages.success(request, _("Thank you! Your answers are saved."))
                return _keep_token(request, redirect("voice:survey", survey_id=found.pk), token, new_token)
        status = 400
    context: dict[str, Any] = {
        "survey": found,
        "form": form,
        "answered": answered,
        "closed": not found.accepts_answers(timezone.now()),
        "visitor": user is None,
        "questions": len(form.questions),
    }
    return _keep_token(
        request, render(request, "voice/survey.html", context, status=status), token, new_token
    )


# --- suggestions --------------------------------------------------------------------------------


def _center_initial(request: HttpRequest, choices: list[tuple[Any, Any]]) -> int | None:
    """The center asked for (``?center=``), else the resident's home center."""
    known = {pk for _street, rows in choices[1:] for pk, _name in rows}
    asked = request.GET.get("center", "")
    if asked.isdigit() and int(asked) in known:
        return int(asked)
    resident = resident_of(_user(request))
    home = home_center_id(resident.home_community_id) if resident is not None else None
    return home if home in known else None


@resident_required
@require_http_methods(["GET", "POST"])
def suggestion_new(request: HttpRequest) -> HttpResponse:
    """A request with up to four photos; its tracking number is shown at once."""
    if resident_of(_user(request)) is None:
        messages.info(request, _("Please complete your real-name profile first."))
        return redirect("people:profile")
    choices = center_choices(public_centers())
    if request.method != "POST":
        form = SuggestionForm(initial={"center": _center_initial(request, choices)}, centers=choices)
        return render(request, "voice/suggestion_new.html", {"form": form})
    form = SuggestionForm(request.POST, request.FILES, centers=choices)
    if form.is_valid():
        data = form.cleaned_data
        try:
            made = services.suggestion_submit(
                user=_user(request),
                draft=services.SuggestionDraft(
                    center_id=data["center"],
                    kind=data["kind"],
                    category=data["category"],
                    text=data["text"],
                    photos=[upload.read(MAX_PHOTO_BYTES + 1) for upload in data["photos"]],
                ),
            )
        except DomainError as exc:
            if isinstance(exc, PHOTO_ERRORS):
                form.add_error("photos", exc.message)
            else:
                add_domain_error(form, exc)
        else:
            messages.success(
                request,
                _("Your request is received. Its tracking number is %(no)s.") % {"no": made.tracking_no},
            )
            return redirect("voice:suggestion", tracking_no=made.tracking_no)
    return render(
        request,
        "voice/suggestion_new.html",
        {"form": form, "photos_lost": bool(request.FILES)},
        status=400,
    )


@resident_required
@require_GET
def my_suggestions(request: HttpRequest) -> HttpResponse:
    items = list(selectors.suggestions_of_resident(_user(request))[:MINE_LIMIT])
    return render(request, "voice/mine.html", {"items": items, "now": timezone.now()})


def _render_own(
    request: HttpRequest,
    suggestion: Suggestion,
    *,
    rating_form: RatingForm | None = None,
    reopen_form: ReopenForm | None = None,
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    context = {
        "s": suggestion,
        "events": list(suggestion.events.all()),
        "photos": selectors.suggestion_photos(suggestion),
        "can_rate": suggestion.status == Suggestion.Status.RESOLVED,
        "can_reopen": suggestion.can_reopen(now),
        "rating_form": rating_form or RatingForm(),
        "reopen_form": reopen_form or ReopenForm(),
        "now": now,
    }
    return render(request, "voice/suggestion.html", context, status=status)


@require_GET
def suggestion_detail(request: HttpRequest, tracking_no: str) -> HttpResponse:
    """All of a request for its resident; for anyone else the public view when it is on the
    board, else 404 (someone not signed in is asked to sign in first: it may be theirs)."""
    number = "".join(ch for ch in tracking_no.upper() if ch.isascii() and ch.isalnum())[:20]
    user = _user_or_none(request)
    if user is not None:
        own = selectors.suggestion_of_resident(user, number)
        if own is not None:
            return _render_own(request, own)
    public = selectors.suggestion_public(number)
    if public is None:
        if user is None:
            return _to_login(request)
        raise errors.SuggestionNotFound()
    return render(request, "voice/suggestion_public.html", {"item": public})


def _own_or_404(request: HttpRequest, suggestion_id: int) -> Suggestion:
    own = selectors.suggestion_of_resident_by_id(_user(request), suggestion_id)
    if own is None:
        raise errors.SuggestionNotFound()
    return own


@resident_required
@require_POST
def rate(request: HttpRequest, suggestion_id: int) -> HttpResponse:
    own = _own_or_404(request, suggestion_id)
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            done = services.suggestion_rate(
                user=_user(request),
                suggestion_id=own.pk,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
            )
        except DomainError as exc:
            if exc.status == 404:
                raise
            if exc.status == 409:  # rated already, or not resolved: the form is gone from the page
                messages.error(request, exc.message)
                return redirect("voice:suggestion", tracking_no=own.tracking_no)
            add_domain_error(form, exc)
        else:
            if done.follow_up and done.status == Suggestion.Status.IN_PROGRESS:
                messages.success(
                    request,
                    _("Thank you for telling us. We follow it up and answer you by %(due)s.")
                    % {"due": f"{timezone.localtime(done.resolve_by):%Y-%m-%d %H:%M}"},
                )
            else:
                messages.success(request, _("Thank you for your rating."))
            return redirect("voice:suggestion", tracking_no=own.tracking_no)
    return _render_own(request, own, rating_form=form, status=400)


@resident_required
@require_POST
def reopen(request: HttpRequest, suggestion_id: int) -> HttpResponse:
    own = _own_or_404(request, suggestion_id)
    form = ReopenForm(request.POST)
    if form.is_valid():
        try:
            done = services.suggestion_reopen(
                user=_user(request), suggestion_id=own.pk, reason=form.cleaned_data["reason"]
            )
        except DomainError as exc:
            if exc.status == 404:
                raise
            if exc.status == 409:
                messages.error(request, exc.message)
                return redirect("voice:suggestion", tracking_no=own.tracking_no)
            add_domain_error(form, exc)
        else:
            messages.success(
                request,
                _("Your request is reopened. It is to be resolved by %(due)s.")
                % {"due": f"{timezone.localtime(done.resolve_by):%Y-%m-%d %H:%M}"},
            )
            return redirect("voice:suggestion", tracking_no=own.tracking_no)
    return _render_own(request, own, reopen_form=form, status=400)


# --- the public board ---------------------------------------------------------------------------


@require_GET
def board(request: HttpRequest) -> HttpResponse:
    """Every center's published requests, newest first; ``?center=`` goes to that center's board."""
    centers = list(selectors.centers_with_board())
    form = BoardFilterForm(request.GET or None, centers=[(c.pk, c.name) for c in centers])
    if form.is_bound and form.is_valid() and form.cleaned_data["center"]:
        return redirect("voice:center-board", center_id=form.cleaned_data["center"])
    page = Paginator(selectors.public_board_items(), BOARD_PAGE).get_page(request.GET.get("page"))
    return render(
        request, "voice/board.html", {"page": page, "centers": centers, "form": form, "center": None}
    )


@require_GET
def center_board(request: HttpRequest, center_id: int) -> HttpResponse:
    center = public_centers().filter(pk=center_id).first()
    if center is None:
        raise errors.CenterNotFound()
    centers = list(selectors.centers_with_board())
    form = BoardFilterForm(initial={"center": center.pk}, centers=[(c.pk, c.name) for c in centers])
    page = Paginator(selectors.public_board_items(center), BOARD_PAGE).get_page(request.GET.get("page"))
    return render(
        request, "voice/board.html", {"page": page, "centers": centers, "form": form, "center": center}
    )


# --- photos -------------------------------------------------------------------------------------


@require_GET
def photo(request: HttpRequest, photo_id: int) -> HttpResponse:
    """A photo for its resident, staff who see the request, or anyone when it is a before/after
    photo of a request on the board; 404 for everyone else."""
    found = selectors.photo_for(_user_or_none(request), session_staff_scope(request), photo_id)
    if found is None:
        raise NotFound()
    response = HttpResponse(bytes(found.content), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Disposition"] = f'inline; filename="photo-{found.pk}.jpg"'
    return response
