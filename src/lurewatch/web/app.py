"""The web dashboard's application factory: middleware, sign-in, error handling, and the two routers.

``create_app`` builds a FastAPI app over one workspace. Pages live in :mod:`lurewatch.web.pages`,
their JSON twins in :mod:`lurewatch.web.api`; both call :mod:`lurewatch.web.service`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lurewatch import __version__
from lurewatch.core import Lurewatch
from lurewatch.settings import Settings
from lurewatch.store.cases import Cases
from lurewatch.store.users import SignedIn, Users
from lurewatch.store.workspace import Workspace
from lurewatch.web.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    LOGIN_CSRF_COOKIE,
    LOGIN_PATHS,
    SESSION_COOKIE,
    UNSAFE_METHODS,
    LoginLimiter,
    LoginRequired,
    has_role,
    same_token,
)
from lurewatch.web.service import WebContext

HERE: Final = Path(__file__).resolve().parent
STATIC_DIR: Final = HERE / "static"
TEMPLATES_DIR: Final = HERE / "templates"
HTMX_FILE: Final = "htmx-2.0.11.min.js"

# No inline script or style anywhere: what an adversary writes into a message cannot run even if some
# template forgot to escape it.
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS: Final = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


class SecurityHeaders:
    """Adds the security headers to every response, and no-store to everything but static files."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(SECURITY_HEADERS)
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, sending)


class BodyLimit:
    """Refuses request bodies over ``limit`` bytes (413) before they are read whole, chunked or not."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _too_large(send, self.limit)
            return
        seen = 0
        refused = False

        async def receiving() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    # Answer now and tell the app the client went away, so nothing more is read; whatever
                    # the app tries to send afterwards is dropped below.
                    refused = True
                    await _too_large(send, self.limit)
                    return {"type": "http.disconnect"}
            return message

        async def sending(message: Message) -> None:
            if not refused:
                await send(message)

        try:
            await self.app(scope, receiving, sending)
        except Exception:
            if not refused:
                raise


async def _too_large(send: Send, limit: int) -> None:
    body = b'{"detail":"request body over the %d-byte limit"}' % limit
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class ApproachIdConvertor(Convertor[str]):
    """An approach id in a path: it may hold slashes (LinkedIn conversation ids are base64), but the
    case page's own suffixes are not part of it, so ``/approaches/x/case`` never reads as the id ``x/case``."""

    regex = r".+?(?<!/case)(?<!/notes)"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("approach_id", ApproachIdConvertor())


_PLAIN_ID = re.compile(r"[A-Za-z0-9._~:@-]+")


def path_id(value: str) -> str:
    """An id as a URL path segment (slashes kept: the approach routes take them); ids are mostly plain."""
    return value if _PLAIN_ID.fullmatch(value) else quote(value, safe="/")


def context(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.ctx
    return ctx


def signed_in(request: Request) -> SignedIn | None:
    """The session behind the request's cookie, looked up once per request."""
    if hasattr(request.state, "user"):
        user: SignedIn | None = request.state.user
        return user
    token = request.cookies.get(SESSION_COOKIE, "")
    user = context(request).users.session_for(token) if token else None
    request.state.user = user
    return user


def api_user(request: Request) -> SignedIn:
    user = signed_in(request)
    if user is None:
        raise HTTPException(status_code=401, detail="sign in first (POST /api/login)")
    return user


def page_user(request: Request) -> SignedIn:
    user = signed_in(request)
    if user is None:
        raise LoginRequired
    return user


async def verify_csrf(request: Request) -> None:
    """Refuse (403) any state-changing request that does not carry a valid CSRF token."""
    if request.method not in UNSAFE_METHODS:
        return
    given = request.headers.get(CSRF_HEADER)
    if not given and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if request.url.path in LOGIN_PATHS:
        expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    else:
        user = signed_in(request)
        expected = user.csrf_token if user is not None else None
    if not same_token(given, expected):
        raise HTTPException(
            status_code=403, detail="missing or invalid CSRF token; reload the page and try again"
        )


def create_app(
    settings: Settings | None = None,
    workspace: Workspace | None = None,
    core: Lurewatch | None = None,
) -> FastAPI:
    """The dashboard over ``workspace`` (default: the one the settings name, created if needed)."""
    settings = settings or Settings.from_env()
    core = core or Lurewatch(settings)
    workspace = workspace or core.open_workspace()
    ctx = WebContext(
        settings=settings,
        core=core,
        workspace=workspace,
        cases=Cases(workspace),
        users=Users(workspace),
        limiter=LoginLimiter(settings.web_login_attempts, settings.web_login_window_s),
    )
    app = FastAPI(
        title="lurewatch",
        version=__version__,
        description=(
            "The JSON twin of every dashboard page. Sign in with POST /api/login (after GET /api/login-token), "
            "then send the csrf_token from /api/me in the X-CSRF-Token header of every POST, PATCH and DELETE."
        ),
        dependencies=[Depends(verify_csrf)],
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.ctx = ctx
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    # The templates ship with the package: no need to stat every file on every request.
    templates.env.auto_reload = False
    templates.env.globals.update(version=__version__, htmx_file=HTMX_FILE)
    templates.env.filters["path_id"] = path_id
    app.state.templates = templates

    from lurewatch.web import api, pages

    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, _exc: LoginRequired) -> Response:
        target = request.url.path
        return RedirectResponse(f"/login?next={target}" if target not in ("/", "/login") else "/login", 303)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            # Starlette names only the first route that matched the path; list every method it takes.
            headers = {"Allow": ", ".join(sorted(_allowed_methods(app, request.scope)))}
        return _error(request, exc.status_code, str(exc.detail), headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'request'}: {e.get('msg', '')}"
            for e in exc.errors()[:5]
        )
        return _error(request, 422, problems or "invalid request")

    app.add_middleware(BodyLimit, limit=settings.web_max_upload_bytes + 1024 * 1024)
    app.add_middleware(SecurityHeaders)
    return app


def _error(request: Request, status: int, detail: str, headers: Any = None) -> Response:
    if request.url.path.startswith("/api/") or request.headers.get("accept", "").startswith(
        "application/json"
    ):
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)
    templates: Jinja2Templates = request.app.state.templates
    user = getattr(request.state, "user", None)
    return templates.TemplateResponse(
        request,
        "error.html",
        {
            "status": status,
            "detail": detail,
            "user": user,
            "can": lambda role: user is not None and has_role(user, role),
        },
        status_code=status,
        headers=headers,
    )


def app_from_env() -> FastAPI:
    """The app over the workspace the environment names (``lurewatch serve`` starts this in each worker)."""
    return create_app(Settings.from_env())


def iter_routes(app: FastAPI) -> Iterator[Any]:
    """Every route of the app, inside included routers too (FastAPI keeps those whole)."""
    pending: list[Any] = list(app.routes)
    while pending:
        route = pending.pop()
        inner = getattr(route, "original_router", None)
        if inner is not None:
            pending.extend(inner.routes)
        else:
            yield route


def _allowed_methods(app: FastAPI, scope: Scope) -> set[str]:
    from starlette.routing import Match

    allowed: set[str] = set()
    for route in iter_routes(app):
        methods = getattr(route, "methods", None)
        if methods and route.matches(scope)[0] in (Match.PARTIAL, Match.FULL):
            allowed.update(methods)
    return allowed
