"""Foundation benchmarks: print figures and ratios, never assert times.

    .venv/bin/python bench/run.py            # SQLite (a scratch file under var/bench/)
    DATABASE_URL=postgresql://... .venv/bin/python bench/run.py

Loads the demo district (124 centers, 300 residents) into a scratch database and measures the
hot reads and writes of the foundation: the console center list with derived areas, resident
search, SMS sign-in, pass issue + verify (direct and through a signed device request).
"""

from __future__ import annotations

import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
if not os.environ.get("DATABASE_URL"):
    os.environ["LIVINGROOM_VAR_DIR"] = tempfile.mkdtemp(prefix="lr-bench-")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "livingroom.settings")

import django  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from livingroom.core import signing  # noqa: E402
from livingroom.core.scopes import StaffScope  # noqa: E402
from livingroom.people import services  # noqa: E402
from livingroom.people.models import Resident  # noqa: E402
from livingroom.people.scopes import staff_scope  # noqa: E402
from livingroom.people.selectors import resident_search  # noqa: E402
from livingroom.people.sms import latest_outbox_message  # noqa: E402
from livingroom.places.models import Device  # noqa: E402
from livingroom.places.selectors import centers_for_staff  # noqa: E402
from livingroom.places.services import device_register  # noqa: E402


def timed(label: str, fn: Callable[[int], object], n: int) -> float:
    samples = []
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - start) * 1000)
    median = statistics.median(samples)
    p95 = sorted(samples)[int(len(samples) * 0.95) - 1]
    print(f"{label:<52} n={n:<4} median {median:8.2f} ms   p95 {p95:8.2f} ms")
    return median


def main() -> None:
    from django.test.utils import get_runner  # noqa: F401 - ensures test settings importable

    setup_test_environment()
    from django.conf import settings
    from django.db import connection

    test_db = None
    if connection.vendor == "postgresql":
        test_db = connection.creation.create_test_db(verbosity=0, keepdb=False)
    else:
        call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}  ({settings.DATABASES['default']['NAME']})")
    start = time.perf_counter()
    call_command("load_demo", residents=300, stdout=open(os.devnull, "w"))  # noqa: SIM115
    print(f"{'load the demo district (124 centers, 300 residents)':<52} {time.perf_counter() - start:8.2f} s")

    district = StaffScope(user_id=0, district=True, can_see_residents=True)
    from livingroom.people.models import User

    worker = staff_scope(User.objects.get(username="gushu"))
    assert worker is not None
    all_centers = timed(
        "console centers, district (124 rows, areas)", lambda i: list(centers_for_staff(district)), 30
    )
    one = timed("console centers, community worker (1 row)", lambda i: list(centers_for_staff(worker)), 30)
    timed(
        "console centers sorted by office share",
        lambda i: list(centers_for_staff(district, sort="-office_share")),
        30,
    )
    timed("resident search 'l' (pinyin prefix), district", lambda i: list(resident_search(district, "l")), 30)
    timed("resident search by phone tail, district", lambda i: list(resident_search(district, "0001")), 30)

    def sms_login(i: int) -> None:
        cache.clear()
        phone = f"1350000{i:04d}"
        services.sms_code_request(phone=phone, ip="127.0.0.1")
        code = re.search(r"\d{6}", latest_outbox_message(phone).body).group(0)  # type: ignore[union-attr]
        services.resident_login_with_sms(phone=phone, code=code)

    timed("SMS code + sign-in (new user)", sms_login, 50)

    resident = Resident.objects.select_related("user").first()
    assert resident is not None
    direct = timed(
        "pass issue + verify (service)",
        lambda i: services.resident_pass_verify(token=services.resident_pass_issue(user=resident.user).token),
        100,
    )
    device, secret = device_register(center=Device.objects.first().center, kind="kiosk", name="bench")  # type: ignore[union-attr]
    client = Client()

    def via_device(i: int) -> None:
        token = services.resident_pass_issue(user=resident.user).token
        body = json.dumps({"token": token}).encode()
        headers = signing.signed_headers(secret, device.key_id, "POST", "/api/v1/devices/passes/verify", body)
        response = client.post(
            "/api/v1/devices/passes/verify", body, content_type="application/json", headers=headers
        )
        assert response.status_code == 200, response.content

    signed = timed("pass verify through a signed device request (API)", via_device, 100)
    api_centers = timed(
        "GET /api/v1/centers (124 centers, public)", lambda i: client.get("/api/v1/centers"), 30
    )

    print()
    print(f"ratio: district list / one-community list          {all_centers / one:6.1f}x")
    print(f"ratio: signed device API / direct service call     {signed / direct:6.1f}x")
    print(f"per-center cost of the district list               {all_centers / 124:6.3f} ms")
    print(f"public centers API                                 {api_centers:6.2f} ms")
    if test_db:
        connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
