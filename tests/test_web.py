"""The web dashboard and its JSON API, in-process (the browser tests are in test_web_browser.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from lurewatch.model import Campaign, CampaignLink, CampaignPersona, Category
from lurewatch.settings import Settings
from lurewatch.store.users import Users
from lurewatch.store.workspace import Workspace
from lurewatch.web import create_app
from lurewatch.web.app import iter_routes
from lurewatch.web.security import LOGIN_CSRF_COOKIE, UNSAFE_METHODS

PASSWORD = "correct horse battery"
STATE_APPROACH = (
    "Dear Dr Smith, I am a senior headhunter for an international think tank. We are looking for experts "
    "in quantum sensing to write short consultancy reports, paid $3000 each. Please add me on WeChat "
    "(wxid_k8s7) so we can talk privately; no need to mention this to your university."
)
HOSTILE = (
    'Hello <script>document.title="pwned"</script><img src=x onerror="document.title=\'pwned\'">'
    "<style>body{display:none}</style> we pay well for a report on your semiconductor work, add me on WeChat."
)
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def ws(workspace_url: str) -> Iterator[Workspace]:
    with Workspace.open(workspace_url) as workspace:
        users = Users(workspace)
        users.add("admin", PASSWORD, "admin")
        users.add("ana", PASSWORD, "analyst")
        users.add("rita", PASSWORD, "reporter")
        users.add("rob", PASSWORD, "reporter")
        yield workspace


def client_for(ws: Workspace, **settings: Any) -> TestClient:
    return TestClient(create_app(Settings(**settings), ws))


def sign_in(client: TestClient, username: str) -> str:
    """Sign in through the API; returns the session's CSRF token."""
    token = client.get("/api/login-token").json()["csrf_token"]
    response = client.post(
        "/api/login", json={"username": username, "password": PASSWORD}, headers={"X-CSRF-Token": token}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])


def report(client: TestClient, csrf: str, message: str) -> dict[str, Any]:
    response = client.post("/api/report", json={"text": message}, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def audit_lines(ws: Workspace) -> list[tuple[str, str, str]]:
    with ws.engine.connect() as conn:
        rows = conn.execute(text("SELECT username, action, object_id FROM audit_log ORDER BY id")).all()
    return [(r[0], r[1], r[2]) for r in rows]


# -- signing in ------------------------------------------------------------------------------------------


def test_page_sign_in_sets_a_strict_http_only_session_cookie(ws: Workspace) -> None:
    client = client_for(ws)
    assert client.get("/inbox", follow_redirects=False).headers["location"] == "/login?next=/inbox"
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    response = client.post(
        "/login",
        data={"username": "ana", "password": PASSWORD, "csrf_token": token.group(1), "next": "/inbox"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/inbox"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("lurewatch_session="))
    assert "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower()
    assert client.get("/inbox").status_code == 200


def test_sign_in_refuses_an_off_site_next(ws: Workspace) -> None:
    client = client_for(ws)
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        client.get("/login")
        token = client.cookies[LOGIN_CSRF_COOKIE]
        response = client.post(
            "/login",
            data={"username": "ana", "password": PASSWORD, "csrf_token": token, "next": target},
            follow_redirects=False,
        )
        assert response.headers["location"] == "/"
        client.cookies.delete("lurewatch_session")


def test_login_is_rate_limited_even_for_the_right_password(ws: Workspace) -> None:
    client = client_for(ws, web_login_attempts=3, web_login_window_s=600)
    token = client.get("/api/login-token").json()["csrf_token"]
    headers = {"X-CSRF-Token": token}
    for _ in range(3):
        wrong = client.post(
            "/api/login", json={"username": "ana", "password": "nope nope nope"}, headers=headers
        )
        assert wrong.status_code == 401
    blocked = client.post("/api/login", json={"username": "ana", "password": PASSWORD}, headers=headers)
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    actions = [action for _, action, _ in audit_lines(ws)]
    assert actions.count("login_failed") == 3
    assert "login_refused" in actions
    # Another user from another address is not locked out by ana's failures... but this client's
    # address is, which is the point of limiting per address too.
    other = client.post("/api/login", json={"username": "rita", "password": PASSWORD}, headers=headers)
    assert other.status_code == 429


def test_passwords_are_stored_as_argon2id(ws: Workspace) -> None:
    with ws.engine.connect() as conn:
        hashes = conn.execute(text("SELECT password_hash FROM users")).scalars().all()
    assert hashes
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)


# -- CSRF ------------------------------------------------------------------------------------------------


def unsafe_routes(client: TestClient) -> list[tuple[str, str]]:
    routes = []
    for route in iter_routes(client.app):  # type: ignore[arg-type]
        for method in sorted((getattr(route, "methods", None) or set()) & UNSAFE_METHODS):
            routes.append((method, re.sub(r"\{[^}]+\}", "x", route.path)))
    return routes


def test_every_state_changing_request_without_a_valid_csrf_token_is_refused(ws: Workspace) -> None:
    client = client_for(ws)
    csrf = sign_in(client, "admin")
    routes = unsafe_routes(client)
    assert len(routes) >= 14, routes
    other = client_for(ws)
    sign_in(other, "ana")
    before = ws.counts()["approaches"], len(audit_lines(ws))
    for method, path in routes:
        for headers in ({}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": csrf[:-1]}):
            response = client.request(method, path, headers=headers, data={"text": "hi", "username": "x"})
            assert response.status_code == 403, (method, path, headers, response.status_code)
        form = client.request(method, path, data={"csrf_token": "forged", "text": "hi"})
        assert form.status_code == 403, (method, path)
    # A token that was right for another session does not carry over.
    assert (
        other.post("/api/report", json={"text": STATE_APPROACH}, headers={"X-CSRF-Token": csrf}).status_code
        == 403
    )
    assert (ws.counts()["approaches"], len(audit_lines(ws))) == before
    # ...and the same request with the token goes through.
    assert (
        client.post("/api/report", json={"text": STATE_APPROACH}, headers={"X-CSRF-Token": csrf}).status_code
        == 200
    )


def test_login_without_the_double_submit_token_is_refused(ws: Workspace) -> None:
    client = client_for(ws)
    client.get("/api/login-token")
    response = client.post("/api/login", json={"username": "ana", "password": PASSWORD})
    assert response.status_code == 403
    response = client.post("/login", data={"username": "ana", "password": PASSWORD, "csrf_token": "made-up"})
    assert response.status_code == 403


# -- reporting, triage and the audit log ---------------------------------------------------------------------


def test_report_triage_and_audit(ws: Workspace) -> None:
    staff = client_for(ws)
    staff_csrf = sign_in(staff, "rita")
    result = report(staff, staff_csrf, STATE_APPROACH)
    assert result["added"] == 1
    (case,) = result["approaches"]
    assert case["category"] == Category.STATE_APPROACH.value
    assert case["signals"] and case["advice"]
    highlighted = [s for m in case["messages"] for s in m["segments"] if s["signals"]]
    assert highlighted, "the red flags are marked inside the text"
    assert "".join(s["text"] for s in case["messages"][0]["segments"]) == case["messages"][0]["text"]

    analyst = client_for(ws)
    csrf = sign_in(analyst, "ana")
    inbox = analyst.get("/api/inbox").json()
    assert [r["id"] for r in inbox["rows"]] == [case["id"]]
    assert inbox["rows"][0]["status"] == "new"
    page = analyst.get("/inbox")
    assert "state approach" in page.text

    changed = analyst.patch(
        f"/api/approaches/{case['id']}/case",
        json={"verdict": "confirmed", "assignee": "ana"},
        headers={"X-CSRF-Token": csrf},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["case"]["status"] == "triaged"
    assert changed.json()["case"]["assignee"] == "ana"
    noted = analyst.post(
        f"/api/approaches/{case['id']}/notes",
        json={"text": "Same persona as last month."},
        headers={"X-CSRF-Token": csrf},
    )
    assert noted.json()["case"]["notes"][0]["author"] == "ana"
    assert analyst.get("/api/inbox", params={"status": "triaged"}).json()["rows"][0]["verdict"] == "confirmed"
    assert analyst.get("/api/inbox", params={"status": "new"}).json()["rows"] == []
    assert analyst.get("/api/inbox", params={"reporter": "rita"}).json()["rows"][0]["id"] == case["id"]
    assert analyst.get("/api/inbox", params={"reporter": "rob"}).json()["rows"] == []

    viewed = analyst.get(f"/approaches/{case['id']}")
    assert viewed.status_code == 200
    assert "Same persona as last month." in viewed.text
    lines = audit_lines(ws)
    assert ("rita", "report", case["id"]) in lines
    assert ("ana", "view", case["id"]) in lines
    assert ("ana", "change", case["id"]) in lines
    assert ("ana", "note", case["id"]) in lines

    # The log is append-only in the database itself.
    with pytest.raises(DBAPIError), ws.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET username = 'mallory'"))
    with pytest.raises(DBAPIError), ws.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log"))
    assert audit_lines(ws) == lines


def test_duplicate_reports_merge_and_reporters_see_only_their_own(ws: Workspace) -> None:
    rita, rob = client_for(ws), client_for(ws)
    rita_csrf, rob_csrf = sign_in(rita, "rita"), sign_in(rob, "rob")
    first = report(rita, rita_csrf, STATE_APPROACH)["approaches"][0]["id"]
    other = report(rob, rob_csrf, "Hi Rob, would you like a demo of our CRM software? Best, Sam")[
        "approaches"
    ][0]["id"]

    assert rob.get(f"/api/approaches/{first}").status_code == 404
    assert rob.get(f"/approaches/{first}").status_code == 404
    assert [r["id"] for r in rob.get("/api/inbox").json()["rows"]] == [other]
    assert rob.get("/api/inbox", params={"reporter": "rita"}).json()["rows"] == []
    assert rob.get("/api/campaigns").status_code == 403
    assert rob.get("/api/settings").status_code == 403
    assert (
        rob.patch(
            f"/api/approaches/{other}/case", json={"verdict": "benign"}, headers={"X-CSRF-Token": rob_csrf}
        ).status_code
        == 403
    )

    again = report(rob, rob_csrf, STATE_APPROACH)
    assert (again["added"], again["merged"]) == (0, 1)
    assert again["approaches"][0]["id"] == first
    assert ws.counts()["approaches"] == 2
    analyst = client_for(ws)
    sign_in(analyst, "ana")
    case = analyst.get(f"/api/approaches/{first}").json()["case"]
    assert case["reporters"] == ["rita", "rob"]
    assert sorted(r["id"] for r in rob.get("/api/inbox").json()["rows"]) == sorted([first, other])


def test_report_upload_reads_an_eml_and_refuses_what_it_cannot_read(ws: Workspace) -> None:
    client = client_for(ws, web_max_upload_bytes=200_000)
    csrf = sign_in(client, "rita")
    eml = sorted((FIXTURES / "email").glob("*.eml"))[0]
    with eml.open("rb") as fh:
        ok = client.post(
            "/api/report/upload", files={"file": ("mail.eml", fh)}, headers={"X-CSRF-Token": csrf}
        )
    assert ok.status_code == 200, ok.text
    assert ok.json()["added"] == 1
    bad_kind = client.post(
        "/api/report/upload", files={"file": ("run.exe", b"MZ\x90\x00")}, headers={"X-CSRF-Token": csrf}
    )
    assert bad_kind.status_code == 422
    not_zip = client.post(
        "/api/report/upload",
        files={"file": ("../../etc/export.zip", b"not a zip")},
        headers={"X-CSRF-Token": csrf},
    )
    assert not_zip.status_code == 422
    assert "/etc" not in not_zip.json()["detail"]
    too_big = client.post(
        "/api/report/upload", files={"file": ("big.eml", b"x" * 300_000)}, headers={"X-CSRF-Token": csrf}
    )
    assert too_big.status_code == 413
    huge_body = client.post(
        "/api/report",
        content=b"{" + b" " * 2_000_000,
        headers={"X-CSRF-Token": csrf, "content-type": "application/json"},
    )
    assert huge_body.status_code == 413


def test_hostile_text_is_escaped_in_every_page(ws: Workspace) -> None:
    client = client_for(ws)
    csrf = sign_in(client, "ana")
    case = report(client, csrf, HOSTILE)["approaches"][0]
    client.post(
        f"/api/approaches/{case['id']}/notes",
        json={"text": "<b onmouseover=alert(1)>x</b>"},
        headers={"X-CSRF-Token": csrf},
    )
    for page in ("/inbox", f"/approaches/{case['id']}"):
        body = client.get(page).text
        assert "<script>document" not in body and "<img src=x" not in body and "<b onmouseover" not in body
        assert "<style>body" not in body
    shown = client.get(f"/approaches/{case['id']}")
    assert "&lt;script&gt;" in shown.text
    csp = shown.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert shown.headers["x-content-type-options"] == "nosniff"


def test_users_page_and_api_manage_roles(ws: Workspace) -> None:
    admin = client_for(ws)
    csrf = sign_in(admin, "admin")
    added = admin.post(
        "/api/users",
        json={"username": "Zoe", "password": PASSWORD, "role": "analyst"},
        headers={"X-CSRF-Token": csrf},
    )
    assert added.status_code == 200
    assert {"username": "zoe", "role": "analyst"}.items() <= next(
        u for u in added.json()["users"] if u["username"] == "zoe"
    ).items()
    short = admin.post(
        "/api/users",
        json={"username": "tim", "password": "short", "role": "analyst"},
        headers={"X-CSRF-Token": csrf},
    )
    assert short.status_code == 422
    # The last admin cannot demote themselves.
    demote = admin.patch("/api/users/admin", json={"role": "analyst"}, headers={"X-CSRF-Token": csrf})
    assert demote.status_code == 422
    # Disabling a user ends their sessions.
    zoe = client_for(ws)
    sign_in(zoe, "zoe")
    assert (
        admin.patch("/api/users/zoe", json={"disabled": True}, headers={"X-CSRF-Token": csrf}).status_code
        == 200
    )
    assert zoe.get("/api/me").status_code == 401
    page = admin.get("/users")
    assert "zoe" in page.text and "disabled" in page.text
    analyst = client_for(ws)
    sign_in(analyst, "ana")
    assert analyst.get("/users").status_code == 403
    assert analyst.get("/api/users").status_code == 403


def test_settings_page_shows_every_setting_and_the_audit_log(ws: Workspace) -> None:
    admin = client_for(ws)
    sign_in(admin, "admin")
    data = admin.get("/api/settings").json()
    names = {s["env"] for s in data["settings"]}
    assert {"LUREWATCH_WEB_HOST", "LUREWATCH_WORKSPACE", "LUREWATCH_EXPORT_TLP"} <= names
    assert any(line["action"] == "login" for line in data["audit"])
    assert "LUREWATCH_WEB_SESSION_HOURS" in admin.get("/settings").text


def sample_campaign() -> tuple[Campaign, dict[str, Any]]:
    from lurewatch.campaigns.engine import campaign_record

    day = datetime(2026, 3, 2, 9, tzinfo=UTC)
    campaign = Campaign(
        campaign_id="cmp-test-1",
        category=Category.STATE_APPROACH,
        risk=0.92,
        message_ids=("m1", "m2", "m3"),
        account_ids=("li:wei-zhang", "li:zhang-wei-2"),
        recipient_ids=("r1", "r2", "r3"),
        links=(
            CampaignLink(
                "photo", "a1b2c3d4e5f60718", 0.9, ("li:wei-zhang", "li:zhang-wei-2"), 3, "Same photo <b>x</b>"
            ),
        ),
        personas=(
            CampaignPersona("li:wei-zhang", "Wei Zhang", "Quantum Talent Ltd", messages=2, recipients=2),
            CampaignPersona("li:zhang-wei-2", "Zhang Wei <script>", messages=1, recipients=1),
        ),
        member_accounts=("li:wei-zhang", "li:wei-zhang", "li:zhang-wei-2"),
        member_recipients=("r1", "r2", "r3"),
        first_seen=day,
        last_seen=day,
        timeline=(("2026-03-02", 2), ("2026-03-03", 1)),
        exemplar_text="We would value your insight.",
    )
    return campaign, campaign_record(campaign)


def test_campaign_pages_draw_the_timeline_and_links(ws: Workspace) -> None:
    campaign, record = sample_campaign()
    ws.save_campaigns([campaign], [record], source="test")
    client = client_for(ws)
    sign_in(client, "ana")
    listing = client.get("/api/campaigns").json()["campaigns"]
    assert [c["campaign_id"] for c in listing] == ["cmp-test-1"]
    twin = client.get("/api/campaigns/cmp-test-1").json()
    assert twin["message_ids"] == ["m1", "m2", "m3"]
    page = client.get("/campaigns/cmp-test-1")
    assert page.status_code == 200
    assert page.text.count("<rect ") == 2
    assert page.text.count("<line ") == 1
    assert "Zhang Wei &lt;script&gt;" in page.text
    assert client.get("/campaigns/nope").status_code == 404
    assert ("ana", "view", "cmp-test-1") in audit_lines(ws)


def test_openapi_describes_a_json_twin_for_every_page(ws: Workspace) -> None:
    client = client_for(ws)
    schema = client.get("/api/openapi.json").json()
    paths = set(schema["paths"])
    for twin in (
        "/api/inbox",
        "/api/approaches/{approach_id}",
        "/api/campaigns",
        "/api/campaigns/{campaign_id}",
        "/api/settings",
        "/api/users",
        "/api/report",
        "/api/me",
    ):
        assert twin in paths, twin
    assert not any(p.startswith(("/inbox", "/login")) for p in paths)


def test_users_cli_adds_the_first_admin(tmp_path: Path) -> None:
    ws = tmp_path / "ws.sqlite"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "lurewatch",
            "users",
            "add",
            "boss",
            "--password-stdin",
            "--workspace",
            str(ws),
        ],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "admin role" in result.stderr
    second = subprocess.run(
        [
            sys.executable,
            "-m",
            "lurewatch",
            "users",
            "add",
            "boss",
            "--password-stdin",
            "--workspace",
            str(ws),
        ],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert second.returncode == 2
    assert "already exists" in second.stderr
    weak = subprocess.run(
        [
            sys.executable,
            "-m",
            "lurewatch",
            "users",
            "add",
            "kim",
            "--password-stdin",
            "--workspace",
            str(ws),
        ],
        input="short\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert weak.returncode == 2
    listed = subprocess.run(
        [sys.executable, "-m", "lurewatch", "users", "list", "--workspace", str(ws)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert listed.stdout.split("\t")[:2] == ["boss", "admin"]
    with Workspace.open(ws) as workspace:
        assert Users(workspace).authenticate("boss", PASSWORD) is not None


def test_body_limit_also_stops_chunked_uploads(ws: Workspace) -> None:
    client = client_for(ws, web_max_upload_bytes=10_000)
    csrf = sign_in(client, "rita")

    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b"x" * 65_536

    response = client.post(
        "/api/report", content=chunks(), headers={"X-CSRF-Token": csrf, "content-type": "application/json"}
    )
    assert response.status_code == 413


def test_exports_from_the_dashboard_validate_and_are_audited(ws: Workspace) -> None:
    from stix2validator import ValidationOptions, validate_string

    client = client_for(ws, export_tlp="green")
    csrf = sign_in(client, "ana")
    case = report(client, csrf, STATE_APPROACH + '\n=HYPERLINK("http://evil.example")')["approaches"][0]
    client.patch(
        f"/api/approaches/{case['id']}/case", json={"verdict": "confirmed"}, headers={"X-CSRF-Token": csrf}
    )
    stix = client.get("/api/export/stix", params={"approach": case["id"]})
    assert stix.status_code == 200
    assert "attachment" in stix.headers["content-disposition"]
    result = validate_string(stix.text, ValidationOptions(version="2.1"))
    assert result.is_valid, [str(e) for e in result.errors]
    objects = stix.json()["objects"]
    assert any(o["type"] == "opinion" and o["opinion"] == "strongly-agree" for o in objects)
    green = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
    assert any(o["id"] == green for o in objects)
    misp = client.get(f"/export/misp?approach={case['id']}&tlp=red")
    assert misp.status_code == 200
    assert any(t["name"] == "tlp:red" for t in misp.json()["Event"]["Tag"])
    table = client.get("/api/export/csv", params={"approach": case["id"]})
    assert table.status_code == 200
    assert "\n=HYPERLINK" not in table.text and '"=HYPERLINK' not in table.text
    assert client.get("/api/export/stix", params={"approach": "no-such"}).status_code == 404
    assert ("ana", "export", None) in audit_lines(ws)
    reporter = client_for(ws)
    sign_in(reporter, "rita")
    assert reporter.get("/api/export/stix").status_code == 403


def test_serve_starts_the_dashboard_on_loopback(tmp_path: Path) -> None:
    import socket
    import time

    import httpx

    ws = tmp_path / "ws.sqlite"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "lurewatch", "serve", "--workspace", str(ws), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except httpx.HTTPError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "lurewatch serve did not answer"
                time.sleep(0.2)
        assert page.status_code == 200
        assert "Sign in" in page.text
        assert page.headers["content-security-policy"].startswith("default-src 'none'")
        assert (
            httpx.get(f"http://127.0.0.1:{port}/api/openapi.json", timeout=5).json()["info"]["title"]
            == "lurewatch"
        )
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "no users yet" in err


def test_owners_page_screens_uploaded_ownership_data(ws: Workspace) -> None:
    owners_fixtures = FIXTURES / "owners"
    client = client_for(ws, lists_dir=owners_fixtures)
    csrf = sign_in(client, "ana")
    data = (owners_fixtures / "structure.csv").read_bytes()
    api = client.post(
        "/api/owners/screen",
        data={"subject": "Target Robotics Ltd", "threshold": "25"},
        files=[("files", ("structure.csv", data, "text/csv"))],
        headers={"X-CSRF-Token": csrf},
    )
    assert api.status_code == 200, api.text
    screening = api.json()["screening"]
    assert screening["subject"]["id"] == "T"
    assert {"state_ownership", "nominee"} <= {f["kind"] for f in screening["flags"]}
    page = client.post(
        "/owners",
        data={"subject": "Target Robotics Ltd", "threshold": "25", "csrf_token": csrf},
        files=[("files", ("structure.csv", data, "text/csv"))],
    )
    assert page.status_code == 200
    assert page.text.count("<circle ") >= 3
    assert 'class="edge flagged' in page.text
    missing = client.post(
        "/api/owners/screen",
        data={"subject": "Nobody Ltd"},
        files=[("files", ("structure.csv", data, "text/csv"))],
        headers={"X-CSRF-Token": csrf},
    )
    assert missing.status_code == 404
    wrong_type = client.post(
        "/api/owners/screen",
        data={"subject": "Target Robotics Ltd"},
        files=[("files", ("structure.exe", b"MZ", "application/octet-stream"))],
        headers={"X-CSRF-Token": csrf},
    )
    assert wrong_type.status_code == 422
    reporter = client_for(ws)
    rita = sign_in(reporter, "rita")
    refused = reporter.post(
        "/api/owners/screen",
        data={"subject": "Target Robotics Ltd"},
        files=[("files", ("structure.csv", data, "text/csv"))],
        headers={"X-CSRF-Token": rita},
    )
    assert refused.status_code == 403
