"""Debian's Chromium for the browser tests (driven by Playwright): one process per test process, a fresh
context (cookies, storage) per test, a screenshot when a test fails."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from bot.config import PROJECT_ROOT
from bot.db import Database

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--use-fake-ui-for-media-stream",  # a fake microphone for the voice tests, admin's and web chat's
    "--use-fake-device-for-media-stream",
]


class Chromium:
    """A running Chromium and the event loop of the Playwright that drives it.

    Playwright's sync API leaves its loop marked as running in this thread between calls; the mark is
    lifted between browser tests, so that the async tests of the same process can run loops of their
    own, and put back while a browser test runs."""

    def __init__(self) -> None:
        self.playwright = sync_playwright().start()
        self.browser: Browser = self.playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        self.loop = asyncio.get_running_loop()
        asyncio._set_running_loop(None)

    @contextmanager
    def page(self, request: pytest.FixtureRequest, **options: Any) -> Iterator[Page]:
        """A page in a context of its own (Vietnamese locale, then `options`); screenshotted if the
        test failed, closed with its context."""
        asyncio._set_running_loop(self.loop)
        context = self.browser.new_context(locale="vi-VN", **options)
        try:
            page = context.new_page()
            yield page
            report = getattr(request.node, "rep_call", None)
            if report is not None and report.failed:
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
        finally:
            context.close()
            asyncio._set_running_loop(None)

    def close(self) -> None:
        """Stop the browser and Playwright."""
        asyncio._set_running_loop(self.loop)
        self.browser.close()
        self.playwright.stop()


def look(page: Page, db: Database, name: str) -> None:
    """Save a full-page screenshot to look at, on the SQLite run only: a test's PostgreSQL run shows the
    same page and its widths are asserted there too, and its shot would overwrite the same file."""
    if db.url.startswith("sqlite"):
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def launch() -> Chromium:
    """Start Chromium, or skip the test when Debian's package is not installed."""
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (make system-deps)")
    return Chromium()
