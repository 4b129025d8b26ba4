"""A real browser: Debian's Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("TA_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls the tests make
    # between browser steps are ordinary synchronous ones.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-gpu",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


@pytest.fixture
def screenshot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def watch(page) -> list[str]:
    """What Chromium refuses on this page because of the Content-Security-Policy (console
    errors and the DOM event), and the page's script errors, as they happen."""
    found: list[str] = []
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e =>"
        " console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    page.on(
        "console",
        lambda m: found.append(m.text)
        if m.type == "error" and ("Content Security Policy" in m.text or "CSP" in m.text)
        else None,
    )
    page.on("pageerror", lambda e: found.append(f"script error: {e} {(e.stack or '')[:600]}"))
    return found


@pytest.fixture
def violations(page) -> list[str]:
    return watch(page)


def login(page, base: str, username: str) -> None:
    """Log in through the real login form (test users' passwords are ``pw-<username>``)."""
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-" + username)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")


def logout(page) -> None:
    page.get_by_role("button", name="Log out").click()


def viewer_ready(page) -> None:
    """Wait for the viewer's first drawing."""
    page.wait_for_function("() => document.getElementById('viewport')?.dataset.ready === 'true'")


def wait_window_readout(page, text: str, errors: list[str] | None = None) -> None:
    """Wait until the window/level corner reads ``text``; when it does not, say what the viewer
    showed instead (the corner, the preset menu, its renderer, the page's script errors)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(
            "t => document.getElementById('wl-readout').textContent === t", arg=text
        )
    except PlaywrightTimeout:
        state = page.evaluate(
            "() => ({readout: document.getElementById('wl-readout').textContent,"
            " preset: document.querySelector('#viewer select')?.value,"
            " ready: document.getElementById('viewport')?.dataset.ready,"
            " renderer: document.getElementById('viewport')?.dataset.renderer,"
            " status: document.getElementById('viewer-status')?.textContent})"
        )
        raise AssertionError(
            f"the window corner never read {text!r}: {state}; script errors: {errors or []}"
        ) from None


def frame_counter(page) -> str:
    return page.locator("#frame-counter").inner_text()


def wait_frame_counter(page, text: str) -> None:
    """Wait until the frame counter reads ``text`` (it is written just after each drawing)."""
    page.wait_for_function(
        "t => document.getElementById('frame-counter').textContent === t", arg=text
    )
