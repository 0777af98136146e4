"""Dashboard users and their signed-in sessions, stored in the workspace.

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106's second recommended profile);
hashes made with older parameters are upgraded on the next successful sign-in. Session cookies
carry a random token whose SHA-256 alone is stored, so a copy of the database does not sign anyone in.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from lurewatch.errors import StoreError
from lurewatch.store.cases import audit_record
from lurewatch.store.tables import ROLES, UserRecord, WebSessionRecord
from lurewatch.store.workspace import Workspace

USERNAME_PATTERN: Final = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
MIN_PASSWORD_CHARS: Final = 10
MAX_PASSWORD_CHARS: Final = 1024

_hasher = PasswordHasher()
# Verifying against this keeps an unknown username as slow as a wrong password.
_DUMMY_HASH: Final = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class User:
    username: str
    role: str
    created_at: datetime
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A live session: whose it is and the CSRF token its forms must carry."""

    username: str
    role: str
    csrf_token: str
    expires_at: datetime


def check_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME_PATTERN.fullmatch(name):
        raise StoreError(
            "a username is 1 to 64 characters: lower-case letters, digits and . _ @ - (starting with a letter or digit)"
        )
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise StoreError(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise StoreError(f"a password holds at most {MAX_PASSWORD_CHARS} characters")
    return password


class Users:
    """Users and sessions on one workspace."""

    def __init__(self, workspace: Workspace) -> None:
        self._engine = workspace.engine

    def add(self, username: str, password: str, role: str, *, actor: str | None = None) -> User:
        name = check_username(username)
        if role not in ROLES:
            raise StoreError(f"unknown role {role!r}; use one of: {', '.join(ROLES)}")
        digest = _hasher.hash(check_password(password))
        now = datetime.now(UTC)
        try:
            with Session(self._engine) as session, session.begin():
                session.add(UserRecord(username=name, password_hash=digest, role=role, created_at=now))
                session.flush()
                session.add(audit_record(now, actor, "user_add", "user", name, {"role": role}))
        except IntegrityError:
            raise StoreError(f"user {name!r} already exists") from None
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot add user {name!r}: {exc.__class__.__name__}") from exc
        return User(name, role, now)

    def list(self) -> list[User]:
        with Session(self._engine) as session:
            return [
                User(r.username, r.role, r.created_at, r.disabled)
                for r in session.scalars(select(UserRecord).order_by(UserRecord.username))
            ]

    def get(self, username: str) -> User | None:
        with Session(self._engine) as session:
            r = session.get(UserRecord, username.strip().lower())
            return None if r is None else User(r.username, r.role, r.created_at, r.disabled)

    def count(self) -> int:
        with Session(self._engine) as session:
            return session.scalar(select(func.count()).select_from(UserRecord)) or 0

    def change(
        self,
        username: str,
        *,
        actor: str | None,
        role: str | None = None,
        disabled: bool | None = None,
        password: str | None = None,
    ) -> User:
        """Change a user's role, disable or re-enable them, or set a new password.

        Disabling a user or setting their password ends their sessions. The last enabled admin can
        be neither demoted nor disabled, so the dashboard never locks itself out.
        """
        if role is not None and role not in ROLES:
            raise StoreError(f"unknown role {role!r}; use one of: {', '.join(ROLES)}")
        digest = _hasher.hash(check_password(password)) if password is not None else None
        now = datetime.now(UTC)
        with Session(self._engine) as session, session.begin():
            rec = session.get(UserRecord, username.strip().lower(), with_for_update=True)
            if rec is None:
                raise StoreError(f"no user {username!r}")
            losing_admin = (
                rec.role == "admin"
                and not rec.disabled
                and ((role is not None and role != "admin") or disabled is True)
            )
            if losing_admin:
                admins = session.scalar(
                    select(func.count())
                    .select_from(UserRecord)
                    .where(UserRecord.role == "admin", UserRecord.disabled.is_(False))
                )
                if (admins or 0) <= 1:
                    raise StoreError("the last admin cannot be demoted or disabled")
            detail: dict[str, object] = {}
            if role is not None and role != rec.role:
                detail["role"] = [rec.role, role]
                rec.role = role
            if disabled is not None and disabled != rec.disabled:
                detail["disabled"] = disabled
                rec.disabled = disabled
            if digest is not None:
                detail["password"] = "changed"
                rec.password_hash = digest
            if disabled or digest is not None or "role" in detail:
                session.execute(delete(WebSessionRecord).where(WebSessionRecord.username == rec.username))
            if detail:
                session.add(audit_record(now, actor, "user_change", "user", rec.username, detail))
            return User(rec.username, rec.role, rec.created_at, rec.disabled)

    # -- signing in --------------------------------------------------------------------------------

    def authenticate(self, username: str, password: str) -> User | None:
        """The user if the password is theirs and they are enabled; None otherwise (same cost either way)."""
        name = username.strip().lower()
        if len(password) > MAX_PASSWORD_CHARS:
            return None
        with Session(self._engine) as session:
            rec = session.get(UserRecord, name) if USERNAME_PATTERN.fullmatch(name) else None
            stored = rec.password_hash if rec is not None else _DUMMY_HASH
            try:
                _hasher.verify(stored, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return None
            if rec is None or rec.disabled:
                return None
            if _hasher.check_needs_rehash(stored):
                with session.begin():
                    rec.password_hash = _hasher.hash(password)
            return User(rec.username, rec.role, rec.created_at, rec.disabled)

    def start_session(self, user: User, lifetime: timedelta) -> tuple[str, SignedIn]:
        """A new session for ``user``: the cookie token (to hand to the browser) and its record."""
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        expires = now + lifetime
        with Session(self._engine) as session, session.begin():
            session.execute(delete(WebSessionRecord).where(WebSessionRecord.expires_at < now))
            session.add(
                WebSessionRecord(
                    token_hash=_token_hash(token),
                    username=user.username,
                    csrf_token=csrf,
                    created_at=now,
                    expires_at=expires,
                )
            )
            session.add(audit_record(now, user.username, "login", "user", user.username, {}))
        return token, SignedIn(user.username, user.role, csrf, expires)

    def session_for(self, token: str) -> SignedIn | None:
        if not token or len(token) > 128:
            return None
        now = datetime.now(UTC)
        with Session(self._engine) as session:
            row = session.execute(_SESSION_LOOKUP, {"token_hash": _token_hash(token)}).first()
        if row is None or row.disabled or row.expires_at <= now:
            return None
        return SignedIn(row.username, row.role, row.csrf_token, row.expires_at)

    def end_session(self, token: str) -> None:
        with Session(self._engine) as session, session.begin():
            session.execute(delete(WebSessionRecord).where(WebSessionRecord.token_hash == _token_hash(token)))


# Built once: every request looks its session up, and building the select costs more than running it.
_SESSION_LOOKUP: Final = (
    select(
        WebSessionRecord.username,
        UserRecord.role,
        WebSessionRecord.csrf_token,
        WebSessionRecord.expires_at,
        UserRecord.disabled,
    )
    .join(UserRecord, UserRecord.username == WebSessionRecord.username)
    .where(WebSessionRecord.token_hash == bindparam("token_hash"))
)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
