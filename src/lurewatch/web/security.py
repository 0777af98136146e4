"""Sign-in, roles, CSRF and the login rate limit for the web dashboard.

Sessions are server-side (see :mod:`lurewatch.store.users`); the cookie is HttpOnly and SameSite=Strict.
Every state-changing request (POST, PUT, PATCH, DELETE) must carry the session's CSRF token, in the
``X-CSRF-Token`` header (the JSON API, and HTMX through ``hx-headers``) or a ``csrf_token`` form field
(plain forms). Before sign-in there is no session, so the login form uses a double-submit cookie.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Final

from fastapi import HTTPException, Request

from lurewatch.store.users import SignedIn

SESSION_COOKIE: Final = "lurewatch_session"
LOGIN_CSRF_COOKIE: Final = "lurewatch_login_csrf"
CSRF_HEADER: Final = "x-csrf-token"
CSRF_FIELD: Final = "csrf_token"
UNSAFE_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Paths where no one is signed in yet: the double-submit cookie stands in for the session's token.
LOGIN_PATHS: Final = frozenset({"/login", "/api/login"})

ROLE_RANK: Final = {"reporter": 0, "analyst": 1, "admin": 2}


class LoginRequired(Exception):
    """Raised by page routes when no one is signed in; the app turns it into a redirect to /login."""


@dataclass(frozen=True, slots=True)
class Failure:
    retry_after: int


class LoginLimiter:
    """Counts failed sign-ins per key (a username, a client address) in a sliding window.

    In memory: it protects one dashboard process. Behind several workers each keeps its own count,
    which multiplies the allowance by the number of workers; the README says so.
    """

    def __init__(self, attempts: int, window_s: int) -> None:
        self._attempts = attempts
        self._window = window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, *keys: str) -> Failure | None:
        now = time.monotonic()
        with self._lock:
            worst = 0.0
            for key in keys:
                seen = self._recent(key, now)
                if len(seen) >= self._attempts:
                    worst = max(worst, seen[0] + self._window - now)
            return Failure(max(1, int(worst) + 1)) if worst > 0 else None

    def fail(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > 100_000:
                # Bounded under a flood of made-up usernames: old entries go first.
                self._failures = {k: v for k, v in self._failures.items() if v and v[-1] > now - self._window}
            for key in keys:
                self._recent(key, now).append(now)

    def clear(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)

    def _recent(self, key: str, now: float) -> deque[float]:
        seen = self._failures.setdefault(key, deque(maxlen=self._attempts + 1))
        while seen and seen[0] <= now - self._window:
            seen.popleft()
        return seen


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(given: str | None, expected: str | None) -> bool:
    if not given or not expected:
        return False
    return secrets.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8", "replace"))


def require_role(user: SignedIn, role: str) -> None:
    """Refuse (403) unless ``user`` holds ``role`` or a higher one."""
    if ROLE_RANK.get(user.role, -1) < ROLE_RANK[role]:
        raise HTTPException(status_code=403, detail=f"this needs the {role} role")


def has_role(user: SignedIn, role: str) -> bool:
    return ROLE_RANK.get(user.role, -1) >= ROLE_RANK[role]
