"""The dashboard's HTML pages: server-rendered Jinja2 templates, HTMX for in-place updates.

Every page has a JSON twin in :mod:`lurewatch.web.api` built by the same :mod:`lurewatch.web.service`
call. Forms post back and redirect (so a reload never re-submits); they work without JavaScript.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from lurewatch.model import CASE_STATUSES, CASE_VERDICTS, Category
from lurewatch.store.users import SignedIn
from lurewatch.web import schemas, service, views
from lurewatch.web.api import set_login_cookie, sign_in, sign_out
from lurewatch.web.app import context, page_user, signed_in
from lurewatch.web.params import InboxQuery, Selection, export_selection, inbox_query
from lurewatch.web.security import LOGIN_CSRF_COOKIE, has_role, new_token, require_role
from lurewatch.web.service import WebContext

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

Ctx = Annotated[WebContext, Depends(context)]
User = Annotated[SignedIn, Depends(page_user)]


def render(
    request: Request, template: str, user: SignedIn | None, status_code: int = 200, **values: Any
) -> Response:
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request,
        template,
        {"user": user, "can": (lambda role: user is not None and has_role(user, role)), **values},
        status_code=status_code,
    )


def back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def safe_next(target: str | None) -> str:
    # Only a path on this site: "//evil.example" or "https://..." would make the login an open redirect.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/")
def home(user: User) -> Response:
    return back("/inbox" if has_role(user, "analyst") else "/report")


@router.get("/login")
def login_form(request: Request, next: Annotated[str | None, Query(max_length=500)] = None) -> Response:
    if signed_in(request) is not None:
        return back(safe_next(next))
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or new_token()
    response = render(request, "login.html", None, login_token=token, next=safe_next(next), error=None)
    set_login_cookie(request, response, token)
    return response


@router.post("/login")
def login(
    request: Request,
    ctx: Ctx,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    response = back(safe_next(next))
    try:
        sign_in(ctx, request, response, username, password)
    except HTTPException as exc:
        token = request.cookies.get(LOGIN_CSRF_COOKIE) or new_token()
        failed = render(
            request,
            "login.html",
            None,
            exc.status_code,
            login_token=token,
            next=safe_next(next),
            error=exc.detail,
        )
        if exc.headers:
            failed.headers.update(exc.headers)
        return failed
    return response


@router.post("/logout")
def logout(request: Request, ctx: Ctx, user: User) -> Response:
    response = back("/login")
    sign_out(ctx, request, response, user)
    return response


@router.get("/report")
def report_form(request: Request, user: User) -> Response:
    return render(request, "report.html", user, result=None, error=None, text="")


@router.post("/report")
def report(
    request: Request, ctx: Ctx, user: User, text: Annotated[str, Form(max_length=1_000_000)] = ""
) -> Response:
    try:
        result = service.report_text(ctx, user, text)
    except HTTPException as exc:
        return render(request, "report.html", user, exc.status_code, result=None, error=exc.detail, text=text)
    return render(request, "report.html", user, result=result, error=None, text="")


@router.post("/report/upload")
def report_upload(request: Request, ctx: Ctx, user: User, file: Annotated[UploadFile, File()]) -> Response:
    try:
        result = service.report_upload(ctx, user, file.filename or "", file.file)
    except HTTPException as exc:
        return render(request, "report.html", user, exc.status_code, result=None, error=exc.detail, text="")
    return render(request, "report.html", user, result=result, error=None, text="")


@router.get("/inbox")
def inbox(
    request: Request, ctx: Ctx, user: User, query: Annotated[InboxQuery, Depends(inbox_query)]
) -> Response:
    limit, offset = query.limit, query.offset
    page = service.inbox(ctx, user, query.where, limit, offset)
    shown = {k: v for k, v in page.filters.items() if v not in (None, "", 0.0)}
    pages = {
        "prev": f"/inbox?{urlencode({**shown, 'offset': max(0, offset - limit), 'limit': limit})}"
        if offset
        else None,
        "next": f"/inbox?{urlencode({**shown, 'offset': offset + limit, 'limit': limit})}"
        if page.has_more
        else None,
    }
    template = "inbox_rows.html" if request.headers.get("hx-target") == "inbox-rows" else "inbox.html"
    return render(request, template, user, page=page, pages=pages)


@router.get("/approaches/{approach_id:approach_id}")
def approach(request: Request, approach_id: str, ctx: Ctx, user: User) -> Response:
    shown = service.approach(ctx, user, approach_id)
    analysts = [u.username for u in ctx.users.list() if u.role != "reporter" and not u.disabled]
    return render(
        request,
        "approach.html",
        user,
        a=shown,
        statuses=CASE_STATUSES,
        verdicts=(*CASE_VERDICTS, *(c.value for c in Category)),
        analysts=analysts,
    )


@router.post("/approaches/{approach_id:approach_id}/case")
def change_case(
    approach_id: str,
    ctx: Ctx,
    user: User,
    status: Annotated[str, Form(max_length=16)] = "",
    verdict: Annotated[str, Form(max_length=32)] = "",
    assignee: Annotated[str | None, Form(max_length=64)] = None,
) -> Response:
    try:
        change = schemas.CaseChange(status=status or None, verdict=verdict or None, assignee=assignee)  # type: ignore[arg-type]
    except ValueError:
        raise HTTPException(status_code=422, detail="unknown status") from None
    service.change_case(ctx, user, approach_id, change)
    return back(f"/approaches/{_quote(approach_id)}")


@router.post("/approaches/{approach_id:approach_id}/notes")
def add_note(
    approach_id: str, ctx: Ctx, user: User, text: Annotated[str, Form(max_length=20_000)]
) -> Response:
    service.add_note(ctx, user, approach_id, text)
    return back(f"/approaches/{_quote(approach_id)}")


@router.get("/export/{kind}")
def export(
    kind: str,
    ctx: Ctx,
    user: User,
    selection: Annotated[Selection, Depends(export_selection)],
    tlp: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    if kind not in service.EXPORT_TYPES:
        raise HTTPException(status_code=404, detail="exports are stix, misp and csv")
    text, media_type, filename = service.export(ctx, user, kind, selection, tlp)
    return Response(
        text, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@router.get("/campaigns")
def campaigns(request: Request, ctx: Ctx, user: User) -> Response:
    return render(request, "campaigns.html", user, listing=service.campaigns(ctx, user, 500))


@router.get("/campaigns/{campaign_id}")
def campaign(request: Request, campaign_id: str, ctx: Ctx, user: User) -> Response:
    record = service.campaign(ctx, user, campaign_id)
    return render(
        request,
        "campaign.html",
        user,
        c=record,
        summary=views.campaign_summary(record),
        chart=views.timeline_chart(record.get("timeline") or ()),
        picture=views.link_picture(record),
    )


@router.get("/owners")
def owners_form(request: Request, user: User) -> Response:
    require_role(user, "analyst")
    return render(request, "owners.html", user, record=None, picture=None, error=None, subject="")


@router.post("/owners")
def owners(
    request: Request,
    ctx: Ctx,
    user: User,
    subject: Annotated[str, Form(max_length=300)],
    files: Annotated[list[UploadFile], File()],
    threshold: Annotated[float, Form(ge=0.0001, le=100)] = 25.0,
) -> Response:
    try:
        record = service.screen_owners(
            ctx, user, subject, [(f.filename or "", f.file) for f in files], threshold
        )
    except HTTPException as exc:
        if exc.status_code == 403:
            raise
        return render(
            request,
            "owners.html",
            user,
            exc.status_code,
            record=None,
            picture=None,
            error=exc.detail,
            subject=subject,
        )
    return render(
        request,
        "owners.html",
        user,
        record=record["screening"],
        picture=views.ownership_picture(record["graph"]),
        error=None,
        subject=subject,
    )


@router.get("/settings")
def settings(request: Request, ctx: Ctx, user: User) -> Response:
    return render(request, "settings.html", user, s=service.settings_view(ctx, user))


@router.get("/users")
def users(request: Request, ctx: Ctx, user: User) -> Response:
    return render(request, "users.html", user, listing=service.users_view(ctx, user), error=None)


@router.post("/users")
def add_user(
    request: Request,
    ctx: Ctx,
    user: User,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    role: Annotated[str, Form(max_length=16)] = "reporter",
) -> Response:
    try:
        body = schemas.UserIn(username=username, password=password, role=role)  # type: ignore[arg-type]
        service.add_user(ctx, user, body)
    except (HTTPException, ValueError) as exc:
        detail = exc.detail if isinstance(exc, HTTPException) else "unknown role"
        status = exc.status_code if isinstance(exc, HTTPException) else 422
        if status == 403:
            raise
        return render(
            request, "users.html", user, status, listing=service.users_view(ctx, user), error=detail
        )
    return back("/users")


@router.post("/users/{username}")
def change_user(
    request: Request,
    username: str,
    ctx: Ctx,
    user: User,
    role: Annotated[str, Form(max_length=16)] = "",
    disabled: Annotated[str, Form(max_length=8)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    try:
        body = schemas.UserChange(
            role=role or None,  # type: ignore[arg-type]
            disabled={"yes": True, "no": False}.get(disabled),
            password=password or None,
        )
        service.change_user(ctx, user, username, body)
    except (HTTPException, ValueError) as exc:
        detail = exc.detail if isinstance(exc, HTTPException) else "unknown role"
        status = exc.status_code if isinstance(exc, HTTPException) else 422
        if status in (403, 404):
            raise
        return render(
            request, "users.html", user, status, listing=service.users_view(ctx, user), error=detail
        )
    return back("/users")


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")
