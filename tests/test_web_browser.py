"""End-to-end tests in a real browser: Playwright driving Debian's chromium against `lurewatch serve`'s app.

They skip when chromium or Playwright is missing (``.ci/run`` installs both). With
``LUREWATCH_UPDATE_SCREENSHOTS=1`` the screenshots land in ``docs/screenshots/`` for the README;
otherwise in a temporary folder (they are still taken, so the pages are rendered for real).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lurewatch.core import Lurewatch
from lurewatch.settings import Settings
from lurewatch.store.users import Users
from lurewatch.store.workspace import Workspace
from lurewatch.web import create_app

CHROMIUM = Path(os.environ.get("LUREWATCH_TEST_CHROMIUM", "/usr/bin/chromium"))
playwright_api = pytest.importorskip("playwright.sync_api")
if not CHROMIUM.exists():
    if os.environ.get("CI"):
        # CI installs chromium (.ci/run); a silent skip there would hide that the browser tests never ran.
        pytest.fail(f"no chromium at {CHROMIUM}", pytrace=False)
    pytest.skip(f"no chromium at {CHROMIUM}", allow_module_level=True)

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery"
STATE_APPROACH = (
    "Dear Dr Okafor,\n\nI lead talent scouting for an international think tank. We are looking for experts in "
    "quantum sensing to write short consultancy reports, paid $3000 each, with an all-expenses-paid trip to "
    "our Shanghai symposium. Please add me on WeChat (wxid_k8s7q) so we can talk privately; there is no need "
    "to mention this to your university.\n\nBest regards,\nLinda Chen"
)
HOSTILE = (
    'Hi! <script>document.title="pwned"; window.pwned = 1</script>'
    '<img src="x" onerror="document.title=\'pwned\'; window.pwned = 1">'
    '<svg onload="window.pwned = 1"></svg><style>body { display: none !important }</style>'
    '<a href="javascript:window.pwned=1">click</a> We pay well for a short report on your chip design work.'
)


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.environ.get("LUREWATCH_UPDATE_SCREENSHOTS") == "1":
        folder = REPO / "docs" / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard over the demo workspace plus campaigns found in a synthetic stream, on a free port."""
    import uvicorn

    from lurewatch.demo import build_demo

    root = tmp_path_factory.mktemp("browser")
    settings = Settings(workspace=root / "demo" / "workspace.sqlite", workers=0)
    core = Lurewatch(settings)
    result = build_demo(core, root / "demo")
    stream = root / "stream.parquet"
    env = {**os.environ, "LUREWATCH_WORKERS": "0"}
    for args in (
        ["synth", "4000", str(stream), "--campaigns", "3", "--seed", "7"],
        ["campaigns", str(stream), "--workspace", str(result.workspace)],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "lurewatch", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    workspace = Workspace.open(result.workspace)
    users = Users(workspace)
    users.add("sec-officer", PASSWORD, "admin")
    users.add("analyst", PASSWORD, "analyst")
    users.add("okafor", PASSWORD, "reporter")
    app = create_app(settings, workspace, core)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(timeout=10)
    workspace.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield launched
        launched.close()


def new_page(browser: Any, base: str) -> Any:
    context = browser.new_context(
        base_url=base, viewport={"width": 1360, "height": 900}, accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def sign_in(page: Any, username: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/login" not in page.url, page.content()[:500]


def test_report_triage_and_export_in_a_real_browser(server: str, browser: Any, shots: Path) -> None:
    staff = new_page(browser, server)
    sign_in(staff, "okafor")
    assert staff.url.endswith("/report")
    staff.fill("#report-text", STATE_APPROACH)
    staff.click("#report-submit")
    staff.wait_for_selector("#result")
    result = staff.inner_text("#result")
    assert "state approach" in result.lower()
    assert staff.locator("#result mark.evidence").count() > 0, "red flags are highlighted inside the text"
    staff.screenshot(path=str(shots / "report.png"), full_page=True)
    case_link = staff.locator("#result a", has_text="Open the case").first.get_attribute("href")
    assert case_link
    staff.context.close()

    analyst = new_page(browser, server)
    sign_in(analyst, "analyst")
    analyst.goto("/inbox")
    assert analyst.locator("table.inbox tbody tr").count() > 5
    analyst.screenshot(path=str(shots / "inbox.png"), full_page=False)
    # Filter in place (HTMX swaps the rows without a page load).
    analyst.select_option("select[name=category]", "state_approach")
    analyst.wait_for_function(
        "() => new URL(location.href).searchParams.get('category') === 'state_approach'"
    )
    categories = analyst.locator("table.inbox tbody tr td:nth-child(2)").all_inner_texts()
    assert categories and all(c.strip() == "state approach" for c in categories)

    analyst.goto(case_link)
    assert analyst.locator(".message-text mark.evidence").count() > 0
    analyst.select_option("#verdict-select", "confirmed")
    analyst.click("#save-case")
    analyst.wait_for_load_state("networkidle")
    assert analyst.inner_text("#case-verdict") == "confirmed"
    assert analyst.inner_text("#case-status") == "triaged"
    analyst.screenshot(path=str(shots / "approach.png"), full_page=True)

    with analyst.expect_download() as download:
        analyst.click("#export-stix")
    bundle = json.loads(Path(download.value.path()).read_text("utf-8"))
    assert bundle["type"] == "bundle"
    types = {o["type"] for o in bundle["objects"]}
    assert {"opinion", "user-account", "marking-definition"} <= types

    analyst.goto("/campaigns")
    analyst.screenshot(path=str(shots / "campaigns.png"), full_page=False)
    analyst.locator("table.inbox tbody a").first.click()
    analyst.wait_for_load_state("networkidle")
    assert analyst.locator("svg.chart rect").count() > 0
    assert analyst.locator("svg.links circle").count() > 1
    analyst.screenshot(path=str(shots / "campaign.png"), full_page=True)
    analyst.context.close()


def test_hostile_message_is_shown_as_text_and_runs_nothing(server: str, browser: Any) -> None:
    page = new_page(browser, server)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page, "analyst")
    page.goto("/report")
    page.fill("#report-text", HOSTILE)
    page.click("#report-submit")
    page.wait_for_selector("#result")
    link = page.locator("#result a", has_text="Open the case").first.get_attribute("href")
    for url in (link, "/inbox"):
        page.goto(url)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("() => window.pwned") is None
        assert page.title() != "pwned"
        assert page.evaluate("() => getComputedStyle(document.body).display") != "none"
        assert (
            page.locator("main script, main img[src=x], main svg[onload], main a[href^=javascript]").count()
            == 0
        )
    # The payload is there, as text.
    page.goto(link)
    text = page.inner_text(".message-text")
    assert '<script>document.title="pwned"' in text
    assert "onerror=" in text
    assert dialogs == []
    page.context.close()


def test_admin_pages_render(server: str, browser: Any, shots: Path) -> None:
    page = new_page(browser, server)
    sign_in(page, "sec-officer")
    page.goto("/settings")
    assert "LUREWATCH_WEB_HOST" in page.inner_text("main")
    assert page.locator("text=login").count() > 0
    page.screenshot(path=str(shots / "settings.png"), full_page=False)
    page.goto("/users")
    assert page.locator("table.inbox tbody tr").count() == 3
    page.screenshot(path=str(shots / "users.png"), full_page=False)
    page.context.close()


def test_owners_page_draws_the_graph(server: str, browser: Any, shots: Path) -> None:
    page = new_page(browser, server)
    sign_in(page, "analyst")
    page.goto("/owners")
    page.fill("#owners-subject", "Target Robotics Ltd")
    page.set_input_files(
        "#owners-files", str(Path(__file__).parent / "fixtures" / "owners" / "structure.csv")
    )
    page.click("#owners-submit")
    page.wait_for_selector("#owners-result")
    assert page.locator("svg.owners-graph circle").count() >= 3
    assert page.locator("svg.owners-graph .edge.flagged").count() >= 1
    assert "state" in page.inner_text("#owners-result").lower()
    page.screenshot(path=str(shots / "owners.png"), full_page=True)
    page.context.close()
