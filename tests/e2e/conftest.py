"""End-to-end fixtures: the real app on a loopback port, driven by Debian's Chromium through Playwright."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("QA_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--disable-quic"]



def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark everything in this folder 'e2e' (a conftest's pytestmark would not reach the modules)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@dataclass
class LiveServer:
    """A running app and how to reach it."""

    url: str
    app: object


def _require_chromium() -> None:
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        # In CI a missing browser is a failure, never a silent skip: scripts/test.sh installs it.
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}; scripts/test.sh installs Debian's chromium")
        pytest.skip(f"Chromium not found at {CHROMIUM}")


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """The app on a file SQLite database with migrations applied and the checklists registered."""
    from flask_migrate import upgrade

    from qa_app import create_app
    from qa_app.checklists.registry import sync_directory
    from qa_app.extensions import db

    app = create_app({
        "SECRET_KEY": "e2e-secret",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'e2e.sqlite3'}",
    })
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        sync_directory(app.config["CHECKLISTS_DIR"])
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[object]:
    """The Playwright driver, started once."""
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_instance) -> Iterator[object]:
    """One headless Chromium for the session."""
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="session")
def tablet(playwright_instance) -> dict:
    """A 10-inch tablet with touch: Playwright's iPad (gen 7) descriptor (810×1080)."""
    descriptor = dict(playwright_instance.devices["iPad (gen 7)"])
    descriptor.pop("default_browser_type", None)
    return descriptor


@pytest.fixture
def context(browser, tablet) -> Iterator[object]:
    """A fresh tablet browser context (cookies, storage) per test."""
    ctx = browser.new_context(**tablet, locale="vi-VN")
    try:
        yield ctx
    finally:
        ctx.close()
