"""The dashboard's operations, shared by the HTML pages and the JSON API.

Each function checks what the signed-in user may do, does it through the core and the store, writes
the audit line, and returns the API model the page renders. Nothing here knows about HTTP beyond
raising :class:`fastapi.HTTPException` with the status a refusal deserves.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import tempfile
from dataclasses import dataclass, fields
from pathlib import Path
from typing import IO, Any, Final

from fastapi import HTTPException

from lurewatch import __version__
from lurewatch.core import Lurewatch
from lurewatch.errors import InputError, LurewatchError, StoreError
from lurewatch.ingest.read import InputKind, detect_kind, iter_approaches
from lurewatch.model import Account, IngestStats
from lurewatch.settings import Settings, env_name
from lurewatch.store.cases import Cases, InboxFilter, Viewer
from lurewatch.store.users import SignedIn, Users
from lurewatch.store.workspace import VERDICTS, Workspace
from lurewatch.web import schemas, views
from lurewatch.web.params import Selection
from lurewatch.web.security import LoginLimiter, has_role, require_role

#: File types a report may upload, by suffix, and the name they are saved under (never the user's own).
UPLOAD_SUFFIXES: Final = {
    ".zip": "export.zip",
    ".eml": "message.eml",
    ".mbox": "mailbox.mbox",
    ".txt": "message.txt",
}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


@dataclass
class WebContext:
    """Everything a request needs, made once when the app starts."""

    settings: Settings
    core: Lurewatch
    workspace: Workspace
    cases: Cases
    users: Users
    limiter: LoginLimiter


def viewer(user: SignedIn) -> Viewer:
    return Viewer(user.username, user.role)


# -- reporting ---------------------------------------------------------------------------------------


def report_text(ctx: WebContext, user: SignedIn, text: str) -> schemas.ReportOut:
    try:
        approach, assessment = ctx.core.check_text(text, source=f"web report by {user.username}")
    except InputError as exc:
        raise HTTPException(status_code=422, detail=exc.problem) from None
    # A pasted message was sent to the person reporting it (the paste itself rarely says).
    if approach.recipient.key.startswith("unknown"):
        approach = dataclasses.replace(
            approach, recipient=Account(key=f"user:{user.username}", name=user.username)
        )
    stats = IngestStats(messages=len(approach.conversation.messages))
    summary = _store_report(
        ctx, user, f"pasted by {user.username}", "pasted", [(approach, assessment)], stats
    )
    return _report_out(ctx, user, summary)


def report_upload(ctx: WebContext, user: SignedIn, filename: str, stream: IO[bytes]) -> schemas.ReportOut:
    """Read an uploaded LinkedIn export, .eml, mbox or text file and report every approach in it."""
    suffix = Path(_SAFE_NAME.sub("_", filename or "")).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise HTTPException(
            status_code=422,
            detail="upload a LinkedIn export (.zip), an e-mail (.eml), an mbox or a .txt file",
        )
    limit = ctx.settings.web_max_upload_bytes
    with tempfile.TemporaryDirectory(prefix="lurewatch-upload-") as tmp:
        path = Path(tmp) / UPLOAD_SUFFIXES[suffix]
        _save_upload(stream, path, limit)
        shown = _SAFE_NAME.sub("_", Path(filename).name)[:120] or path.name
        if suffix == ".txt":
            try:
                text = path.read_text("utf-8")
            except UnicodeDecodeError:
                raise HTTPException(status_code=422, detail=f"{shown}: not UTF-8 text") from None
            return report_text(ctx, user, text)
        try:
            kind = detect_kind(path, ctx.settings)
            if kind not in (InputKind.LINKEDIN_EXPORT, InputKind.EML, InputKind.MBOX):
                raise InputError(shown, "not a LinkedIn export, e-mail or mbox")
            stats = IngestStats()
            items = list(ctx.core.screener.assess_many(iter_approaches(path, ctx.settings, stats, kind), 0))
        except InputError as exc:
            raise HTTPException(status_code=422, detail=f"{shown}: {exc.problem}") from None
    if not items:
        raise HTTPException(status_code=422, detail=f"{shown}: holds no inbound approach to report")
    summary = _store_report(ctx, user, f"{shown} uploaded by {user.username}", kind.value, items, stats)
    return _report_out(ctx, user, summary)


def _save_upload(stream: IO[bytes], path: Path, budget: int) -> int:
    """Copy an upload to ``path`` in 1 MiB chunks; 413 as soon as it passes ``budget`` bytes."""
    written = 0
    with path.open("wb") as out:
        while chunk := stream.read(1 << 20):
            written += len(chunk)
            if written > budget:
                raise HTTPException(
                    status_code=413,
                    detail="the upload is over the size limit (LUREWATCH_WEB_MAX_UPLOAD_BYTES)",
                )
            out.write(chunk)
    return written


def _store_report(
    ctx: WebContext, user: SignedIn, source: str, kind: str, items: Any, stats: IngestStats
) -> Any:
    try:
        return ctx.workspace.record_report(source, kind, items, stats, reporter=user.username)
    except StoreError as exc:
        raise HTTPException(status_code=503, detail=str(exc)) from None


def _report_out(ctx: WebContext, user: SignedIn, summary: Any) -> schemas.ReportOut:
    shown = [approach(ctx, user, aid, audit=False) for aid in summary.approach_ids[:50]]
    return schemas.ReportOut(added=summary.added, merged=summary.merged, approaches=shown)


# -- cases -------------------------------------------------------------------------------------------


def inbox(ctx: WebContext, user: SignedIn, where: InboxFilter, limit: int, offset: int) -> schemas.InboxOut:
    page = ctx.cases.inbox(viewer(user), where, limit=limit, offset=offset)
    filters: dict[str, str | float | None] = {f.name: getattr(where, f.name) for f in fields(where)}
    return views.inbox_out(page, filters, ctx.cases.facets(viewer(user)))


def approach(ctx: WebContext, user: SignedIn, approach_id: str, *, audit: bool = True) -> schemas.ApproachOut:
    # 404 rather than 403 for someone else's report: a reporter learns nothing about what exists.
    if not ctx.cases.can_view(viewer(user), approach_id):
        raise HTTPException(status_code=404, detail="no such approach")
    found = ctx.workspace.get_approach(approach_id)
    if found is None:
        raise HTTPException(status_code=404, detail="no such approach")
    if audit:
        ctx.cases.audit(user.username, "view", "approach", approach_id)
    state = ctx.cases.state(approach_id)
    in_campaigns = ctx.cases.campaigns_of(approach_id) if has_role(user, "analyst") else []
    return views.approach_out(*found, state, in_campaigns)


def change_case(
    ctx: WebContext, user: SignedIn, approach_id: str, change: schemas.CaseChange
) -> schemas.ApproachOut:
    require_role(user, "analyst")
    if change.verdict is not None and change.verdict not in VERDICTS:
        raise HTTPException(status_code=422, detail=f"verdict must be one of: {', '.join(VERDICTS)}")
    if change.assignee:
        assignee = ctx.users.get(change.assignee)
        if assignee is None or assignee.disabled or assignee.role == "reporter":
            raise HTTPException(status_code=422, detail="assign cases to an analyst or admin")
    # Only whether it exists: loading the whole thread here would be read again for the answer.
    if not ctx.cases.can_view(viewer(user), approach_id):
        raise HTTPException(status_code=404, detail="no such approach")
    try:
        ctx.cases.update(
            user.username,
            approach_id,
            status=change.status,
            verdict=change.verdict or None,
            assignee=change.assignee.strip().lower() if change.assignee else None,
            clear_assignee=change.assignee == "",
        )
    except StoreError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    return approach(ctx, user, approach_id, audit=False)


def add_note(ctx: WebContext, user: SignedIn, approach_id: str, text: str) -> schemas.ApproachOut:
    require_role(user, "analyst")
    # Only whether it exists: loading the whole thread here would be read again for the answer.
    if not ctx.cases.can_view(viewer(user), approach_id):
        raise HTTPException(status_code=404, detail="no such approach")
    try:
        ctx.cases.add_note(user.username, approach_id, text)
    except StoreError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    return approach(ctx, user, approach_id, audit=False)


# -- campaigns ---------------------------------------------------------------------------------------


def campaigns(ctx: WebContext, user: SignedIn, limit: int) -> schemas.CampaignListOut:
    require_role(user, "analyst")
    return schemas.CampaignListOut(
        campaigns=[views.campaign_summary(r) for r in ctx.workspace.list_campaigns(limit=limit)]
    )


def campaign(ctx: WebContext, user: SignedIn, campaign_id: str) -> dict[str, Any]:
    require_role(user, "analyst")
    record = ctx.workspace.get_campaign(campaign_id)
    if record is None:
        raise HTTPException(status_code=404, detail="no such campaign")
    ctx.cases.audit(user.username, "view", "campaign", campaign_id)
    return record


# -- exports -----------------------------------------------------------------------------------------

EXPORT_TYPES: Final = {
    "stix": "application/json",
    "misp": "application/json",
    "csv": "text/csv; charset=utf-8",
}


def export(
    ctx: WebContext, user: SignedIn, kind: str, selection: Selection, tlp: str | None
) -> tuple[str, str, str]:
    """An export of the selection: its text, media type and a file name for the download."""
    import io

    from lurewatch.export.common import tlp_level
    from lurewatch.export.csv import write_inbox_csv
    from lurewatch.export.misp import misp_event
    from lurewatch.export.selection import select_for_export
    from lurewatch.export.stix import stix_bundle

    require_role(user, "analyst")
    try:
        level = tlp_level(tlp or ctx.settings.export_tlp)
        items, found = select_for_export(
            ctx.workspace, selection.campaigns, selection.approaches, selection.min_risk, limit=5_000
        )
    except (ValueError, LurewatchError) as exc:
        status = 404 if str(exc).startswith("no ") else 422
        raise HTTPException(status_code=status, detail=str(exc)) from None
    if kind == "stix":
        text = stix_bundle(items, found, tlp=level)
    elif kind == "misp":
        text = misp_event(items, found, tlp=level)
    else:
        buffer = io.StringIO()
        write_inbox_csv(buffer, items)
        text = buffer.getvalue()
    ctx.cases.audit(
        user.username,
        "export",
        "selection",
        None,
        {
            "format": kind,
            "tlp": level,
            "approaches": [a.id for a, _, _ in items][:200],
            "campaigns": selection.campaigns[:50],
        },
    )
    return text, EXPORT_TYPES[kind], f"lurewatch-{kind}.{'csv' if kind == 'csv' else 'json'}"


# -- owners ------------------------------------------------------------------------------------------

OWNERSHIP_SUFFIXES: Final = (".json", ".jsonl", ".ndjson", ".csv", ".tsv")


def screen_owners(
    ctx: WebContext,
    user: SignedIn,
    subject: str,
    files: list[tuple[str, IO[bytes]]],
    threshold: float | None,
) -> dict[str, Any]:
    """Screen ``subject`` in uploaded ownership files (BODS, PSC, FtM, CSV) against the configured lists.

    Returns ``{"screening": result_json, "graph": graph_view}`` (see :mod:`lurewatch.owners.screen`).
    """
    from lurewatch.owners.screen import graph_view, result_json

    require_role(user, "analyst")
    subject = subject.strip()
    if not subject:
        raise HTTPException(status_code=422, detail="name the company or person to screen")
    if not files:
        raise HTTPException(status_code=422, detail="upload at least one ownership file")
    limit = ctx.settings.web_max_upload_bytes
    with tempfile.TemporaryDirectory(prefix="lurewatch-owners-") as tmp:
        paths: list[Path] = []
        written = 0
        for n, (filename, stream) in enumerate(files[:20]):
            suffix = Path(_SAFE_NAME.sub("_", filename or "")).suffix.lower()
            if suffix not in OWNERSHIP_SUFFIXES:
                raise HTTPException(status_code=422, detail="ownership files are .json, .jsonl, .csv or .tsv")
            path = Path(tmp) / f"ownership-{n}{suffix}"
            written += _save_upload(stream, path, limit - written)
            paths.append(path)
        try:
            result, _matching = ctx.core.screen_counterparty(subject, paths, threshold=threshold)
        except InputError as exc:
            raise HTTPException(status_code=422, detail=exc.problem) from None
        except LurewatchError as exc:
            raise HTTPException(
                status_code=404 if "not found" in str(exc) else 422, detail=str(exc)
            ) from None
        record = {"screening": result_json(result), "graph": graph_view(result)}
    ctx.cases.audit(user.username, "owners_screen", "party", subject[:200], {"files": len(paths)})
    return record


# -- settings and users --------------------------------------------------------------------------------


def settings_view(ctx: WebContext, user: SignedIn) -> schemas.SettingsOut:
    require_role(user, "admin")
    docs = _setting_docs()
    shown = []
    for f in fields(ctx.settings):
        value = getattr(ctx.settings, f.name)
        if f.name == "database_url" and value:
            value = _without_password(str(value))
        shown.append(
            schemas.SettingOut(
                name=f.name,
                env=env_name(f.name),
                value="" if value is None else str(value),
                description=docs.get(f.name, ""),
            )
        )
    audit = [
        schemas.AuditOut(
            id=e.id,
            at=e.at,
            username=e.username,
            action=e.action,
            object_type=e.object_type,
            object_id=e.object_id,
            detail=e.detail,
        )
        for e in ctx.cases.audit_log(limit=200)
    ]
    return schemas.SettingsOut(
        version=__version__,
        workspace=_without_password(ctx.workspace.url),
        counts=ctx.workspace.counts(),
        settings=shown,
        audit=audit,
    )


def users_view(ctx: WebContext, user: SignedIn) -> schemas.UsersOut:
    require_role(user, "admin")
    return schemas.UsersOut(
        users=[
            schemas.UserOut(username=u.username, role=u.role, created_at=u.created_at, disabled=u.disabled)  # type: ignore[arg-type]
            for u in ctx.users.list()
        ]
    )


def add_user(ctx: WebContext, user: SignedIn, body: schemas.UserIn) -> schemas.UsersOut:
    require_role(user, "admin")
    try:
        ctx.users.add(body.username, body.password, body.role, actor=user.username)
    except StoreError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    return users_view(ctx, user)


def change_user(ctx: WebContext, user: SignedIn, username: str, body: schemas.UserChange) -> schemas.UsersOut:
    require_role(user, "admin")
    if ctx.users.get(username) is None:
        raise HTTPException(status_code=404, detail="no such user")
    try:
        ctx.users.change(
            username,
            actor=user.username,
            role=body.role,
            disabled=body.disabled,
            password=body.password or None,
        )
    except StoreError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    return users_view(ctx, user)


def _without_password(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


@functools.cache
def _setting_docs() -> dict[str, str]:
    """The ``#:`` comment above each Settings field, as the settings page's description."""
    import inspect

    from lurewatch import settings as settings_module

    docs: dict[str, str] = {}
    pending: list[str] = []
    for line in inspect.getsource(settings_module.Settings).splitlines():
        stripped = line.strip()
        if stripped.startswith("#:"):
            pending.append(stripped[2:].strip())
        elif stripped.startswith("#") and pending:
            pending.append(stripped[1:].strip())
        elif ":" in stripped and not stripped.startswith(("@", "def", "class", '"')):
            name = stripped.split(":", 1)[0].strip()
            if pending:
                docs[name] = " ".join(pending)
            elif docs and name.isidentifier():
                # A field right below another shares its comment (web_host / web_port).
                docs[name] = list(docs.values())[-1]
            pending = []
        else:
            pending = []
    return docs
