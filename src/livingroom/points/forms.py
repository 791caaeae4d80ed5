"""Forms of the resident points pages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

Choices = Sequence[tuple[Any, Any]]


class CenterFilterForm(forms.Form):
    """``?center=``: one of the centers that have something to show; anything else (missing,
    unknown, not a number) shows every center."""

    center = forms.TypedChoiceField(label=_("Center"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args: Any, centers: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.TypedChoiceField, self.fields["center"])
        field.choices = [("", _("All centers")), *centers]

    @property
    def center_id(self) -> int | None:
        if not self.is_bound or not self.is_valid():
            return None
        return cast("int | None", self.cleaned_data.get("center"))
