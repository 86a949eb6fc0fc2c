"""Real-browser harness: the app served by gunicorn on loopback, Debian's Chromium driven by Playwright.

Each server gets a fresh instance folder (database, outbox, logs); Chromium is launched once per session and each
test gets a fresh context (cookies, storage). A failing test leaves a full-page screenshot in test-artifacts/.
The pytest-playwright plugin is not used: `playwright.sync_api` directly, with /usr/bin/chromium, because
`playwright install` cannot download browsers here and the plugin would insist on its own.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from browser_support import CHROMIUM_ARGS, CHROMIUM_PATH, Probe, start_live_server

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"

# Secrets sweeps grep what the whole suite left behind: they run last, whatever the collection order.
SWEEP_MARK = "test_secrets"


def pytest_collection_modifyitems(session, config, items):
    sweeps = [item for item in items if SWEEP_MARK in item.nodeid]
    if sweeps:
        others = [item for item in items if SWEEP_MARK not in item.nodeid]
        items[:] = others + sweeps


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the item so fixtures can take a screenshot when the test failed.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the session (the Debian build; Playwright's own browsers are not installed)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory, shared_index_dir):
    """The app served by gunicorn on 127.0.0.1 with its own instance folder, for the tests of one module."""
    server = start_live_server(tmp_path_factory.mktemp("live"), shared_index_dir)
    yield server
    server.stop()


def _screenshot_on_failure(request, page) -> None:
    report = getattr(request.node, "rep_call", None)
    if report is None or not report.failed or page.is_closed():
        return
    ARTIFACTS.mkdir(exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
    try:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        (ARTIFACTS / f"{name}.html").write_text(page.content(), encoding="utf-8")
    except Exception as error:  # a crashed page must not hide the test's own failure
        print(f"screenshot failed: {error}")


@pytest.fixture
def browser_context(request, chromium):
    """Build fresh browser contexts (desktop by default); each page is probed and screenshotted on failure."""
    made = []

    def build(**options):
        options.setdefault("locale", "fr-FR")
        options.setdefault("timezone_id", "Europe/Paris")
        context = chromium.new_context(**options)
        context.set_default_timeout(10_000)
        probe = Probe(context)
        made.append((context, probe))
        return context, probe

    yield build
    for context, _probe in made:
        for page in context.pages:
            _screenshot_on_failure(request, page)
        context.close()


@pytest.fixture
def page(browser_context):
    """A desktop page (1280×900) in a fresh context."""
    context, probe = browser_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.probe = probe
    return page


@pytest.fixture
def phone_page(browser_context):
    """A phone-sized page: 390×844, touch, mobile user agent (an iPhone 12-class screen)."""
    context, probe = browser_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
        user_agent=(
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/156.0.0.0 Mobile Safari/537.36"
        ),
    )
    page = context.new_page()
    page.probe = probe
    return page
