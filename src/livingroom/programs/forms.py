"""Forms of the courses console and of a talent's proposal page. They parse and label (yuan to
integer fen, local date-times in Asia/Shanghai); the services decide, and their refusals are put
back on the field they name (``show_error``)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from livingroom.core.errors import DomainError
from livingroom.core.formatting import yuan_to_fen
from livingroom.core.forms import ActionForm, ReasonForm, date_field, reason_field  # noqa: F401 - the console's forms
from livingroom.people.models import EligibilityVerification
from livingroom.programs import payments
from livingroom.programs.models import MAX_CAPACITY, MAX_PRICE_FEN, MAX_WAITLIST, Program
from livingroom.programs.services import (
    MAX_FAIR_SECONDS,
    MAX_SESSION_MINUTES,
    MAX_SESSIONS,
    ProgramDraft,
    SessionDraft,
)

Choices = Sequence[tuple[Any, Any]]
MAX_YUAN = Decimal(MAX_PRICE_FEN) / 100
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def welfare_share() -> int:
    return int(getattr(settings, "LIVINGROOM_PUBLIC_WELFARE_SHARE_PCT", 20))


# --- fields ---------------------------------------------------------------------------------------


def yuan_field(label: Any, **kwargs: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=Decimal(0),
        max_value=MAX_YUAN,
        max_digits=9,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        **kwargs,
    )


def datetime_field(label: Any, **kwargs: Any) -> forms.DateTimeField:
    """A ``datetime-local`` input, read as Asia/Shanghai wall-clock time."""
    return forms.DateTimeField(
        label=label,
        widget=forms.DateTimeInput(format=DATETIME_FORMAT, attrs={"type": "datetime-local"}),
        input_formats=[DATETIME_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        **kwargs,
    )


def fen_of(value: Decimal | None) -> int:
    return yuan_to_fen(value) if value is not None else 0


def eligibility_choices() -> list[tuple[str, Any]]:
    return list(EligibilityVerification.Kind.choices)


# --- the course proposal --------------------------------------------------------------------------


class ProgramForm(forms.Form):
    """A course proposal: what, for whom, seats and price, enrolment, and a weekly series of
    sessions. Staff choose the center (and an organisation); a talent's center is fixed."""

    wide_fields = ("title", "communities", "eligibility_kinds", "space")
    sections = (
        (_("The course"), ("center", "organization", "title", "category", "description")),
        (_("Who may take part"), ("min_age", "max_age", "communities", "eligibility_kinds")),
        (_("Seats and waiting list"), ("capacity", "waitlist_size")),
        (_("Price"), ("market_price", "price", "public_welfare")),
        (
            _("Enrolment"),
            (
                "enroll_opens_at",
                "enroll_closes_at",
                "fair_seconds",
                "promotion",
                "offer_hours",
                "cancel_cutoff_hours",
            ),
        ),
        (_("Sessions (a weekly series)"), ("space", "first_starts_at", "minutes", "weeks")),
    )

    center = forms.TypedChoiceField(label=_("Center"), coerce=int)
    organization = forms.TypedChoiceField(
        label=_("Organisation"), coerce=int, required=False, empty_value=None
    )
    title = forms.CharField(label=_("Title"), max_length=100)
    category = forms.ChoiceField(label=_("Category"), choices=Program.Category.choices)
    description = forms.CharField(
        label=_("Description"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What participants learn or do, what to bring."),
    )
    min_age = forms.IntegerField(label=_("Youngest age"), min_value=0, max_value=120, required=False)
    max_age = forms.IntegerField(label=_("Oldest age"), min_value=0, max_value=120, required=False)
    communities = forms.TypedMultipleChoiceField(
        label=_("Only residents of these communities"),
        coerce=int,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("None chosen: residents of every community. Hold Ctrl to choose several."),
    )
    eligibility_kinds = forms.MultipleChoiceField(
        label=_("Only residents verified as"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: everyone in the audience above."),
    )
    capacity = forms.IntegerField(label=_("Seats"), min_value=1, max_value=MAX_CAPACITY)
    waitlist_size = forms.IntegerField(
        label=_("Waiting-list places"),
        min_value=0,
        max_value=MAX_WAITLIST,
        initial=10,
        help_text=_("0: no waiting list."),
    )
    market_price = yuan_field(_("Market price (yuan)"), initial=Decimal(0))
    price = yuan_field(_("Price charged (yuan)"), initial=Decimal(0))
    public_welfare = forms.BooleanField(label=_("Public-welfare pricing"), required=False, initial=True)
    enroll_opens_at = datetime_field(_("Enrolment opens"))
    enroll_closes_at = datetime_field(
        _("Enrolment closes"),
        required=False,
        help_text=_("Empty: when the first session starts."),
    )
    fair_seconds = forms.IntegerField(
        label=_("Opening draw (seconds)"),
        min_value=0,
        max_value=MAX_FAIR_SECONDS,
        initial=60,
        help_text=_(
            "Requests in the first seconds after opening are drawn by lot; 0 = first come first served."
        ),
    )
    promotion = forms.ChoiceField(
        label=_("When a seat frees"),
        choices=Program.Promotion.choices,
        initial=Program.Promotion.AUTO,
        widget=forms.RadioSelect,
    )
    offer_hours = forms.IntegerField(
        label=_("Hours to accept an offered seat"), min_value=1, max_value=72, initial=24
    )
    cancel_cutoff_hours = forms.IntegerField(
        label=_("Residents cancel up to (hours before the first session)"),
        min_value=0,
        max_value=24 * 14,
        initial=24,
    )
    space = forms.TypedChoiceField(label=_("Space"), coerce=int)
    first_starts_at = datetime_field(_("First session starts"))
    minutes = forms.IntegerField(
        label=_("Minutes per session"), min_value=15, max_value=MAX_SESSION_MINUTES, initial=90
    )
    weeks = forms.IntegerField(
        label=_("Weeks"),
        min_value=1,
        max_value=MAX_SESSIONS,
        initial=1,
        help_text=_("1: a one-off session; more: the same time every week."),
    )

    def __init__(
        self,
        *args: Any,
        centers: Choices = (),
        organizations: Choices = (),
        organization_required: bool = False,
        spaces: Choices = (),
        space_centers: dict[int, int] | None = None,
        communities: Choices = (),
        fixed_center: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        share = welfare_share()
        self.share = share
        self.space_centers = space_centers or {}
        self.fields["public_welfare"].help_text = _(
            "Ticked: the price charged is capped at %(share)s%% of the market price."
        ) % {"share": share}
        self.fields["price"].help_text = _(
            "Public welfare: at most %(share)s%% of the market price. 0 = free."
        ) % {"share": share}
        cast(forms.MultipleChoiceField, self.fields["eligibility_kinds"]).choices = eligibility_choices()
        cast(forms.TypedMultipleChoiceField, self.fields["communities"]).choices = list(communities)
        cast(forms.TypedChoiceField, self.fields["space"]).choices = [("", _("Choose a space")), *spaces]
        if fixed_center:
            del self.fields["center"]
            del self.fields["organization"]
            return
        cast(forms.TypedChoiceField, self.fields["center"]).choices = list(centers)
        if len(centers) == 1:
            self.fields["center"].initial = centers[0][0]
        org = cast(forms.TypedChoiceField, self.fields["organization"])
        if organization_required:
            org.required = True
            org.choices = [("", _("Choose your organisation")), *organizations]
            org.help_text = _("The organisation that runs the course.")
            if len(organizations) == 1:
                org.initial = organizations[0][0]
        elif organizations:
            org.choices = [("", _("None: the center's own course")), *organizations]
            org.help_text = _("A partner organisation or department that runs the course.")
        else:
            del self.fields["organization"]

    def groups(self) -> list[tuple[Any, list[forms.BoundField]]]:
        """The fields by section, for the template (absent fields skipped)."""
        return [
            (title, [self[name] for name in names if name in self.fields]) for title, names in self.sections
        ]

    def error_fields(self) -> list[forms.BoundField]:
        """The fields with an error, in the order of the form (for the summary on top)."""
        return [self[name] for name in self.fields if name in self.errors]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("center") is not None and data.get("space") is not None:
            space_center = self.space_centers.get(data["space"])
            if space_center is not None and space_center != data["center"]:
                self.add_error("space", _("Choose a space of the center chosen above."))
        return data

    def draft(self, *, center_id: int, sessions: list[SessionDraft]) -> ProgramDraft:
        d = self.cleaned_data
        return ProgramDraft(
            center_id=center_id,
            organization_id=d.get("organization"),
            title=d["title"],
            category=d["category"],
            description=d.get("description") or "",
            min_age=d.get("min_age"),
            max_age=d.get("max_age"),
            community_ids=list(d.get("communities") or []),
            eligibility_kinds=list(d.get("eligibility_kinds") or []),
            capacity=d["capacity"],
            waitlist_size=d["waitlist_size"] if d.get("waitlist_size") is not None else 0,
            market_price_fen=fen_of(d.get("market_price")),
            price_fen=fen_of(d.get("price")),
            public_welfare=bool(d.get("public_welfare")),
            enroll_opens_at=d["enroll_opens_at"],
            enroll_closes_at=d.get("enroll_closes_at"),
            fair_seconds=d["fair_seconds"] if d.get("fair_seconds") is not None else 60,
            promotion=d.get("promotion") or Program.Promotion.AUTO,
            offer_hours=d["offer_hours"] if d.get("offer_hours") is not None else 24,
            cancel_cutoff_hours=d["cancel_cutoff_hours"] if d.get("cancel_cutoff_hours") is not None else 24,
            sessions=sessions,
        )


def program_initial(now: dt.datetime | None = None) -> dict[str, Any]:
    """Enrolment opens now; the first session a week from today at 19:00."""
    now = timezone.localtime(now or timezone.now())
    first = (now + dt.timedelta(days=7)).replace(hour=19, minute=0, second=0, microsecond=0)
    return {
        "enroll_opens_at": now.replace(second=0, microsecond=0),
        "first_starts_at": first,
        "public_welfare": True,
        "fair_seconds": 60,
        "promotion": Program.Promotion.AUTO,
        "offer_hours": 24,
        "cancel_cutoff_hours": 24,
        "waitlist_size": 10,
        "minutes": 90,
        "weeks": 1,
        "market_price": Decimal(0),
        "price": Decimal(0),
    }


# --- staff actions --------------------------------------------------------------------------------


class LimitsForm(forms.Form):
    capacity = forms.IntegerField(label=_("Seats"), min_value=1, max_value=MAX_CAPACITY)
    waitlist_size = forms.IntegerField(label=_("Waiting-list places"), min_value=0, max_value=MAX_WAITLIST)


class PaymentForm(forms.Form):
    """A fee paid at the desk (cash) or elsewhere (a reference number)."""

    enrollment = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    method = forms.ChoiceField(label=_("How"))
    amount = yuan_field(_("Amount (yuan)"))
    reference = forms.CharField(
        label=_("Reference"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["method"]).choices = [
            (a.method, a.label) for a in payments.adapters().values()
        ]

    @property
    def amount_fen(self) -> int:
        return fen_of(self.cleaned_data.get("amount"))


class TotalsForm(forms.Form):
    """``?from=&to=``: ``from`` is a Python keyword, so the fields are added by name."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from"] = date_field(_("From"), required=False)
        self.fields["to"] = date_field(_("Until"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("from"), data.get("to")
        if start and end and end < start:
            self.add_error("to", _("The end date is before the start date."))
        if start and end and (end - start).days > 366 * 2:
            self.add_error("to", _("Choose at most two years."))
        return data


# --- refusals of the services, on the form --------------------------------------------------------

# Codes the services raise with a generic message; the words a person needs instead.

SESSION_FIELD = re.compile(r"^sessions\.(\d+)$")


def error_message(exc: DomainError, messages: dict[str, Any] | None = None) -> str:
    """The words for a refusal: the page's own for its code, else the service's."""
    if messages and exc.code in messages:
        text = str(messages[exc.code])
        try:
            return text % exc.params if "%(" in text else text
        except (KeyError, TypeError, ValueError):
            return text
    return exc.message


def show_error(
    form: forms.BaseForm,
    exc: DomainError,
    aliases: dict[str, str] | None = None,
    *,
    session_labels: Sequence[str] = (),
    messages: dict[str, Any] | None = None,
) -> int:
    """Puts a service's refusal on the form, on the field it names (under the form's names), and
    returns the HTTP status the page is answered with (400 for a field that names nothing)."""
    field = exc.field or ""
    text = error_message(exc, messages)
    match = SESSION_FIELD.match(field)
    if match:
        index = int(match.group(1))
        label = session_labels[index] if index < len(session_labels) else str(index + 1)
        text = str(_("Session %(n)s (%(when)s): %(problem)s")) % {
            "n": index + 1,
            "when": label,
            "problem": text,
        }
        field = "sessions"
    field = (aliases or {}).get(field, field)
    form.add_error(field if field in form.fields else None, text)
    return 400 if exc.status == 404 else exc.status


PROGRAM_ALIASES = {
    "center_id": "center",
    "organization_id": "organization",
    "community_ids": "communities",
    "market_price_fen": "market_price",
    "price_fen": "price",
    "sessions": "first_starts_at",
    "series.weeks": "weeks",
    "series.minutes": "minutes",
}
