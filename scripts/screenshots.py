"""Takes screenshots of the main pages with Debian's Chromium, to look at them as a person would.

    .venv/bin/python scripts/screenshots.py http://127.0.0.1:8000 test-artifacts/shots

Signs in as the demo resident (code read from the SMS outbox) and as the demo staff member
``gushu`` (TOTP computed from the demo secret). Needs the demo district and DJANGO_DEBUG=1.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def manage(*args: str) -> str:
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "livingroom", *args],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ,
    ).stdout.strip()


def main(base: str, out: Path, lang: str = "zh-hans") -> None:
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        phone = browser.new_context(
            viewport={"width": 375, "height": 812},
            device_scale_factor=2,
            locale="zh-CN" if lang == "zh-hans" else "en",
        )
        page = phone.new_page()
        page.goto(base + "/")
        page.screenshot(path=out / "resident-home-anon.png", full_page=True)
        page.goto(base + "/login/")
        page.fill("#id_phone", "13800138000")
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r".*/login/code/.*"))
        body = manage("sms_outbox", "-n", "1")
        code = re.search(r"(\d{6})", body.split("  ", 2)[-1]).group(1)  # type: ignore[union-attr]
        page.fill("#id_code", code)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        page.screenshot(path=out / "resident-home.png", full_page=True)
        for name, path in [
            ("resident-pass", "/me/pass/"),
            ("resident-profile", "/me/profile/"),
            ("resident-centers", "/centers/"),
        ]:
            page.goto(base + path)
            page.screenshot(path=out / f"{name}.png", full_page=True)
        page.goto(base + "/me/center/")
        page.screenshot(path=out / "resident-my-center.png", full_page=True)
        page.goto(base + "/")
        page.click("form[action='/settings/elderly/'] button")
        page.wait_for_load_state()
        page.screenshot(path=out / "resident-home-elderly.png", full_page=True)

        desk = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        page = desk.new_page()
        for username, prefix in [("gushu", "console"), ("district", "console-district")]:
            page.goto(base + "/console/login/")
            page.fill("#id_username", username)
            page.fill("#id_password", "LivingRoom-2026")
            page.fill("#id_totp", manage("demo_totp", username))
            page.click("button[type=submit]")
            page.wait_for_url(re.compile(r".*/console/$"))
            page.screenshot(path=out / f"{prefix}-home.png", full_page=True)
            page.goto(base + "/console/centers/?sort=-office_share_before")
            page.screenshot(path=out / f"{prefix}-centers.png", full_page=False)
            page.goto(base + "/console/residents/?q=l")
            page.screenshot(path=out / f"{prefix}-residents.png", full_page=False)
            page.click("form[action='/logout/'] button")
        browser.close()


if __name__ == "__main__":
    main(
        sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000",
        Path(sys.argv[2] if len(sys.argv) > 2 else "test-artifacts/shots"),
    )
