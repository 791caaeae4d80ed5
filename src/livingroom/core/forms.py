"""Showing a DomainError on a Django form: on its field when the form has it, else on top."""

from __future__ import annotations

from django import forms

from livingroom.core.errors import DomainError


def add_domain_error(form: forms.Form, exc: DomainError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)
