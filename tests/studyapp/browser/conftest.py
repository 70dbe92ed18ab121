"""Headless Chromium (Debian's) driven by Playwright against pytest-django's live server."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM calls in
# the test body are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


# Counts the page's fetches in flight, and lets teardown refuse new ones.
FETCH_GUARD = """
(() => {
  const realFetch = window.fetch;
  window.__inflight = 0;
  window.fetch = function (...args) {
    if (window.__frozen) return new Promise(() => {});
    window.__inflight += 1;
    return realFetch.apply(this, args).finally(() => { window.__inflight -= 1; });
  };
})();
"""


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.add_init_script(FETCH_GUARD)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    dialogs: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.js_errors = errors
    page.dialogs = dialogs
    yield page
    _quiesce(page)
    context.close()


def _quiesce(page) -> None:
    """Let the page's requests finish and send no more before the tables are flushed.

    The annotate page saves its draft when it is hidden (closing the context hides
    it) and on timers. Such a PUT reaching the live server while pytest-django
    truncates the tables after a test deadlocks with the TRUNCATE on PostgreSQL.
    """
    from playwright.sync_api import Error

    try:
        page.evaluate("window.__frozen = true")
        page.wait_for_function("!window.__inflight", timeout=15_000)
    except Error:
        pass  # the page is gone (closed or crashed): it sends nothing more


def login(page, username: str, password: str = "pw-for-tests", next_url: str = "/") -> None:
    page.goto(f"/accounts/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("form button[type=submit]")
