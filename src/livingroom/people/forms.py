from __future__ import annotations

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from livingroom.people.models import EligibilityVerification


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"inputmode": "tel", "autocomplete": "tel", "placeholder": _("11-digit mobile number")}
        ),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Verification code"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "pattern": "[0-9]*",
                "placeholder": _("6 digits"),
            }
        ),
    )


class ProfileForm(forms.Form):
    real_name = forms.CharField(
        label=_("Real name"), max_length=50, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    id_number = forms.CharField(
        label=_("ID card number"),
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    home_community = forms.TypedChoiceField(label=_("Home community"), coerce=int)
    consent = forms.BooleanField(
        label=_(
            "I agree that my name, ID number and phone are used to provide community services (bookings, "
            "courses, meals, volunteering) and eligibility checks. They are encrypted and shown masked."
        ),
        required=False,
    )

    def __init__(
        self, *args: object, communities: list[tuple[str, list[tuple[int, str]]]], **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        cast(forms.ChoiceField, self.fields["home_community"]).choices = [
            ("", _("Choose your community")),
            *communities,
        ]


class StaffLoginForm(forms.Form):
    username = forms.CharField(
        label=_("Username"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username"})
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=200,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    totp = forms.CharField(
        label=_("One-time code (authenticator app)"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class RevealForm(forms.Form):
    reason = forms.CharField(label=_("Reason for viewing"), max_length=200, min_length=2)


class VerificationForm(forms.Form):
    kind = forms.ChoiceField(label=_("Eligibility"), choices=EligibilityVerification.Kind.choices)
    platform = forms.CharField(label=_("Platform or issuer"), max_length=60, required=False)
    credential_number = forms.CharField(
        label=_("Credential or certificate number"), max_length=60, required=False
    )
    valid_until = forms.DateField(
        label=_("Valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    evidence_note = forms.CharField(
        label=_("Evidence note"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    credential_photo = forms.FileField(
        label=_("Photo of the credential"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=_("Optional. Kept encrypted; only staff who may see the resident can open it."),
    )

    def photo_bytes(self) -> bytes | None:
        upload = self.cleaned_data.get("credential_photo")
        return upload.read() if upload else None
