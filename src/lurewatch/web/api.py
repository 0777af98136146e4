"""The JSON API: one twin for every dashboard page, described by the OpenAPI schema at /api/openapi.json."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, Response, UploadFile

from lurewatch.store.users import SignedIn
from lurewatch.web import schemas, service
from lurewatch.web.app import api_user, context
from lurewatch.web.params import InboxQuery, Selection, export_selection, inbox_query
from lurewatch.web.security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    client_address,
    new_token,
)
from lurewatch.web.service import WebContext

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": schemas.Problem, "description": "malformed request body"},
    401: {"model": schemas.Problem, "description": "not signed in"},
    403: {"model": schemas.Problem, "description": "missing CSRF token or role"},
    404: {"model": schemas.Problem, "description": "not found (or not yours to see)"},
    413: {"model": schemas.Problem, "description": "request body too large"},
    422: {"model": schemas.Problem, "description": "invalid request"},
    429: {"model": schemas.Problem, "description": "too many failed sign-ins"},
}

router = APIRouter(prefix="/api", tags=["api"], responses=ERRORS)

Ctx = Annotated[WebContext, Depends(context)]
User = Annotated[SignedIn, Depends(api_user)]


@router.get("/login-token", response_model=schemas.LoginToken)
def login_token(request: Request, response: Response) -> schemas.LoginToken:
    """A token for the sign-in request; it is also set as a cookie, and both must match."""
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or new_token()
    set_login_cookie(request, response, token)
    return schemas.LoginToken(csrf_token=token)


@router.post("/login", response_model=schemas.Me)
def login(body: schemas.LoginBody, request: Request, response: Response, ctx: Ctx) -> schemas.Me:
    user = sign_in(ctx, request, response, body.username, body.password)
    return schemas.Me(
        username=user.username, role=user.role, csrf_token=user.csrf_token, expires_at=user.expires_at
    )  # type: ignore[arg-type]


@router.post("/logout", status_code=204)
def logout(request: Request, response: Response, ctx: Ctx, user: User) -> Response:
    sign_out(ctx, request, response, user)
    response.status_code = 204
    return response


@router.get("/me", response_model=schemas.Me)
def me(user: User) -> schemas.Me:
    return schemas.Me(
        username=user.username, role=user.role, csrf_token=user.csrf_token, expires_at=user.expires_at
    )  # type: ignore[arg-type]


@router.post("/report", response_model=schemas.ReportOut)
def report(body: schemas.ReportText, ctx: Ctx, user: User) -> schemas.ReportOut:
    """Report one pasted message: it is screened, stored as a case (or merged into the same one)."""
    return service.report_text(ctx, user, body.text)


@router.post("/report/upload", response_model=schemas.ReportOut)
def report_upload(file: Annotated[UploadFile, File()], ctx: Ctx, user: User) -> schemas.ReportOut:
    """Report a LinkedIn export (.zip), an e-mail (.eml), an mbox or a .txt file."""
    return service.report_upload(ctx, user, file.filename or "", file.file)


@router.get("/inbox", response_model=schemas.InboxOut)
def inbox(ctx: Ctx, user: User, query: Annotated[InboxQuery, Depends(inbox_query)]) -> schemas.InboxOut:
    return service.inbox(ctx, user, query.where, query.limit, query.offset)


@router.get("/approaches/{approach_id:approach_id}", response_model=schemas.ApproachOut)
def approach(approach_id: str, ctx: Ctx, user: User) -> schemas.ApproachOut:
    return service.approach(ctx, user, approach_id)


@router.patch("/approaches/{approach_id:approach_id}/case", response_model=schemas.ApproachOut)
def change_case(approach_id: str, change: schemas.CaseChange, ctx: Ctx, user: User) -> schemas.ApproachOut:
    """Set the status, verdict (confirmed, benign, false_positive or a category) or assignee."""
    return service.change_case(ctx, user, approach_id, change)


@router.post("/approaches/{approach_id:approach_id}/notes", response_model=schemas.ApproachOut)
def add_note(approach_id: str, note: schemas.NoteIn, ctx: Ctx, user: User) -> schemas.ApproachOut:
    return service.add_note(ctx, user, approach_id, note.text)


@router.get("/campaigns", response_model=schemas.CampaignListOut)
def campaigns(
    ctx: Ctx, user: User, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> schemas.CampaignListOut:
    return service.campaigns(ctx, user, limit)


@router.get("/campaigns/{campaign_id}", response_model=schemas.CampaignOut)
def campaign(campaign_id: str, ctx: Ctx, user: User) -> dict[str, Any]:
    return service.campaign(ctx, user, campaign_id)


@router.get("/settings", response_model=schemas.SettingsOut)
def settings(ctx: Ctx, user: User) -> schemas.SettingsOut:
    """The settings in force and the latest audit-log lines (admins only)."""
    return service.settings_view(ctx, user)


@router.get("/users", response_model=schemas.UsersOut)
def users(ctx: Ctx, user: User) -> schemas.UsersOut:
    return service.users_view(ctx, user)


@router.post("/users", response_model=schemas.UsersOut)
def add_user(body: schemas.UserIn, ctx: Ctx, user: User) -> schemas.UsersOut:
    return service.add_user(ctx, user, body)


@router.patch("/users/{username}", response_model=schemas.UsersOut)
def change_user(username: str, body: schemas.UserChange, ctx: Ctx, user: User) -> schemas.UsersOut:
    return service.change_user(ctx, user, username, body)


Tlp = Annotated[
    Literal["clear", "green", "amber", "amber+strict", "red"] | None,
    Query(description="TLP 2.0 level (default: LUREWATCH_EXPORT_TLP)"),
]


def _download(text: str, media_type: str, filename: str) -> Response:
    return Response(
        text, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@router.get(
    "/export/stix",
    responses={
        200: {
            "content": {"application/json": {"schema": {"type": "object"}}},
            "description": "STIX 2.1 bundle",
        }
    },
)
def export_stix(
    ctx: Ctx,
    user: User,
    selection: Annotated[Selection, Depends(export_selection)],
    tlp: Tlp = None,
) -> Response:
    """A STIX 2.1 bundle of the named approaches and campaigns (or of every approach at or above min_risk)."""
    return _download(*service.export(ctx, user, "stix", selection, tlp))


@router.get(
    "/export/misp",
    responses={
        200: {"content": {"application/json": {"schema": {"type": "object"}}}, "description": "MISP event"}
    },
)
def export_misp(
    ctx: Ctx,
    user: User,
    selection: Annotated[Selection, Depends(export_selection)],
    tlp: Tlp = None,
) -> Response:
    """A MISP event of the selection."""
    return _download(*service.export(ctx, user, "misp", selection, tlp))


@router.get(
    "/export/csv",
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "spreadsheet-safe CSV"}
    },
)
def export_csv(
    ctx: Ctx,
    user: User,
    selection: Annotated[Selection, Depends(export_selection)],
) -> Response:
    """The selection as CSV with its triage state; cells that a spreadsheet would run as formulas are neutralised."""
    return _download(*service.export(ctx, user, "csv", selection, None))


@router.post("/owners/screen", response_model=schemas.OwnersOut)
def screen_owners(
    ctx: Ctx,
    user: User,
    subject: Annotated[str, Form(min_length=1, max_length=300)],
    files: Annotated[list[UploadFile], File()],
    threshold: Annotated[float, Form(ge=0.0001, le=100)] = 25.0,
) -> dict[str, Any]:
    """Screen a counterparty in uploaded ownership files (BODS 0.4, PSC snapshot, FtM, CSV): ultimate owners
    with effective shares, flags explained as paths, list matches, and the graph (as `lurewatch owners screen`)."""
    return service.screen_owners(ctx, user, subject, [(f.filename or "", f.file) for f in files], threshold)


# -- signing in, shared with the pages --------------------------------------------------------------


def set_login_cookie(request: Request, response: Response, token: str) -> None:
    ctx: WebContext = request.app.state.ctx
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=ctx.settings.web_secure_cookies,
    )


def sign_in(ctx: WebContext, request: Request, response: Response, username: str, password: str) -> SignedIn:
    name = username.strip().lower()[:64]
    keys = (f"user:{name}", f"addr:{client_address(request)}")
    blocked = ctx.limiter.blocked(*keys)
    if blocked is not None:
        ctx.cases.audit(name or None, "login_refused", "user", name or None, {"reason": "rate limit"})
        raise HTTPException(
            status_code=429,
            detail=f"too many failed sign-ins; try again in {blocked.retry_after} s",
            headers={"Retry-After": str(blocked.retry_after)},
        )
    found = ctx.users.authenticate(name, password)
    if found is None:
        ctx.limiter.fail(*keys)
        ctx.cases.audit(None, "login_failed", "user", name or None, {"address": client_address(request)})
        raise HTTPException(status_code=401, detail="wrong username or password")
    ctx.limiter.clear(f"user:{name}")
    token, session = ctx.users.start_session(found, timedelta(hours=ctx.settings.web_session_hours))
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(ctx.settings.web_session_hours * 3600),
        httponly=True,
        samesite="strict",
        secure=ctx.settings.web_secure_cookies,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return session


def sign_out(ctx: WebContext, request: Request, response: Response, user: SignedIn) -> None:
    ctx.users.end_session(request.cookies.get(SESSION_COOKIE, ""))
    ctx.cases.audit(user.username, "logout", "user", user.username)
    response.delete_cookie(SESSION_COOKIE)
