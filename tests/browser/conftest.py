"""Fixtures for the browser tests: one Debian Chromium per module, a fresh context per test.

Playwright's sync API keeps an asyncio loop running on this thread, and Django refuses ORM calls
from a thread with a running loop (``SynchronousOnlyOperation``); hence this conftest sets
``DJANGO_ALLOW_ASYNC_UNSAFE``. That is safe here: the test thread and the live server never use the
database at the same time, because each Playwright call waits for the page it drives.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# Set before any ORM call from the test thread (fixtures included); see the module docstring.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


def _unavailable(reason: str) -> None:
    if os.environ.get("LIVINGROOM_REQUIRE_BROWSER") == "1":
        pytest.fail(f"LIVINGROOM_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the dev extras install it
        _unavailable("the playwright Python package is not installed")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, live_server) -> Iterator[Callable]:
    """``new_page(viewport)`` opens a page in a fresh browser context (own cookies) on the live server.

    Whatever the Content-Security-Policy blocks on any page (an inline script, a handler, a resource
    from another origin) fails the test: the browser reports it on the console."""
    contexts = []
    blocked: list[str] = []

    def watch(message) -> None:
        if "Content Security Policy" in message.text:
            blocked.append(message.text)

    def open_page(viewport: dict, locale: str = "zh-CN"):
        context = browser.new_context(
            viewport=viewport, locale=locale, base_url=live_server.url, service_workers="block"
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("console", watch)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert blocked == [], "blocked by the Content-Security-Policy"


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
