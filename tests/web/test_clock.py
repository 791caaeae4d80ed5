"""``livingroom clock``: one pass runs every app's clock and reports what each did."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_one_pass_runs_every_clock(place):
    out = io.StringIO()
    call_command("clock", verbosity=2, stdout=out)
    reported = {line.split(":", 1)[0] for line in out.getvalue().splitlines()}
    assert reported == {"booking", "programs", "volunteering", "voice", "meals", "erasure"}
