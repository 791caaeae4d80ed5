"""Scarce things under real parallel connections (PostgreSQL only; skipped on SQLite).

Each worker thread has its own database connection; a barrier releases them together.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

from livingroom.core.errors import DomainError
from livingroom.core.idempotency import run_idempotent
from livingroom.core.models import AuditEvent, IdempotencyRecord
from livingroom.people import services
from livingroom.people.models import PassUse, Resident, SmsCode, User
from livingroom.people.sms import latest_outbox_message
from tests.factories import ResidentFactory, UserFactory, make_id_number
from tests.parallel import in_parallel

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def test_a_pass_is_accepted_exactly_once_under_a_rush():
    resident = ResidentFactory()
    token = services.resident_pass_issue(user=resident.user).token
    results = in_parallel(8, lambda i: services.resident_pass_verify(token=token, purpose=f"t{i}").pk)
    assert Counter(results) == Counter({resident.pk: 1, "pass_replayed": 7})
    assert PassUse.objects.count() == 1


def test_parallel_guesses_never_exceed_five_tries():
    phone = "13900002222"
    services.sms_code_request(phone=phone, ip="127.0.0.1")
    code = re.search(r"\d{6}", latest_outbox_message(phone).body).group(0)
    wrong = "000000" if code != "000000" else "111111"
    results = in_parallel(12, lambda i: services.resident_login_with_sms(phone=phone, code=wrong))
    counts = Counter(results)
    assert counts == Counter({"sms_code_invalid": 5, "sms_code_too_many_tries": 7})
    assert SmsCode.objects.get().attempts == 5
    with pytest.raises(DomainError):
        services.resident_login_with_sms(phone=phone, code=code)
    assert not User.objects.exists()


def test_one_code_signs_in_once_even_when_sent_twice_at_once():
    phone = "13900003333"
    services.sms_code_request(phone=phone, ip="127.0.0.1")
    code = re.search(r"\d{6}", latest_outbox_message(phone).body).group(0)
    results = in_parallel(4, lambda i: services.resident_login_with_sms(phone=phone, code=code).pk)
    users = [r for r in results if isinstance(r, int)]
    assert len(users) == 1 and results.count("sms_code_invalid") == 3, results
    assert User.objects.count() == 1


def test_idempotency_key_acts_once():
    def act(i: int) -> Any:
        def action() -> tuple[int, dict]:
            event = AuditEvent.objects.create(action="test.effect", data={"worker": i})
            return 201, {"event": event.pk}

        return run_idempotent(scope="device:1", key="K-1", payload={"n": 1}, action=action)

    results = in_parallel(6, act)
    bodies = {r[1]["event"] for r in results}
    assert len(bodies) == 1, results
    assert sum(1 for r in results if r[2] is False) == 1  # exactly one first answer, the rest replays
    assert AuditEvent.objects.filter(action="test.effect").count() == 1
    assert IdempotencyRecord.objects.count() == 1


def test_an_id_number_is_claimed_by_one_resident_only(db):
    from tests.factories import CommunityFactory

    community = CommunityFactory()
    number = make_id_number()
    users = [UserFactory() for _ in range(4)]
    results = in_parallel(
        4,
        lambda i: (
            services.resident_profile_update(
                user=users[i],
                real_name="赵六",
                id_number=number,
                home_community_id=community.pk,
                consent=True,
            ).pk
        ),
    )
    assert results.count("id_number_taken") == 3, results
    assert Resident.objects.count() == 1
