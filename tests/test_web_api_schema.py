"""schemathesis over the JSON API's OpenAPI schema, in-process: no server errors, responses match the schema.

Requests run as a signed-in admin with a valid CSRF token, so generated data reaches the handlers
instead of stopping at the sign-in and CSRF checks (those are tested in test_web.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from lurewatch.settings import Settings
from lurewatch.store.users import Users
from lurewatch.store.workspace import Workspace
from lurewatch.web import create_app

PASSWORD = "correct horse battery"


def build() -> tuple[object, dict[str, str]]:
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="lurewatch-schemathesis-"))
    workspace = Workspace.open(folder / "ws.sqlite")
    Users(workspace).add("admin", PASSWORD, "admin")
    # A generous login allowance: generated sign-in attempts must not lock out the session below.
    app = create_app(Settings(workers=0, web_login_attempts=100_000), workspace)
    client = TestClient(app)
    token = client.get("/api/login-token").json()["csrf_token"]
    me = client.post(
        "/api/login", json={"username": "admin", "password": PASSWORD}, headers={"X-CSRF-Token": token}
    ).json()
    client.post(
        "/api/report",
        json={"text": "Dear Dr Ito, our think tank pays $2000 for a short report. Add me on WeChat."},
        headers={"X-CSRF-Token": me["csrf_token"]},
    )
    headers = {
        "Cookie": f"lurewatch_session={client.cookies['lurewatch_session']}",
        "X-CSRF-Token": me["csrf_token"],
    }
    return app, headers


APP, HEADERS = build()
CONTENT_CHECKED = {
    "/api/report",
    "/api/report/upload",
    "/api/approaches/{approach_id}/case",
    "/api/approaches/{approach_id}/notes",
    "/api/users",
    "/api/users/{username}",
    "/api/owners/screen",
}
schema = schemathesis.openapi.from_asgi("/api/openapi.json", APP)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case: schemathesis.Case) -> None:
    if case.path in ("/api/logout",):
        pytest.skip("signing out would end the session the other cases use")
    excluded = []
    if case.path in CONTENT_CHECKED:
        # These take what the schema allows and then check it against the data: an unreadable upload (an
        # empty file, a non-zip .zip), an assignee who is no analyst, a username already taken are rightly
        # 422, not schema violations.
        excluded.append(positive_data_acceptance)
    case.call_and_validate(headers=HEADERS, excluded_checks=excluded)
