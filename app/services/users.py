"""Users, roles, passwords and API tokens: plain functions that take a session; none commits."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.models import ROLES, ApiToken, User, utcnow

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8


class UserError(ValueError):
    pass


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def create_user(session: Session, email: str, password: str, role: str) -> User:
    """Create a user; raises UserError for a bad email, a short password, an unknown role or a taken email."""
    email = normalise_email(email)
    if not _EMAIL.match(email):
        raise UserError(f"{email!r} is not an email address")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password must be at least {MIN_PASSWORD} characters")
    if find_user(session, email):
        raise UserError(f"a user with email {email} already exists")
    user = User(email=email, role=role, active=True)
    user.set_password(password)
    session.add(user)
    session.flush()
    return user


# --- roles and deactivation ------------------------------------------------------------------


def _lock_admins(session: Session) -> int:
    """Lock the active admins' rows for the rest of the transaction and count them.

    Two admins demoting each other at once must not leave nobody in charge: PostgreSQL
    locks the rows; SQLite has one writer, and a no-op UPDATE takes that lock before the count.
    """
    admins = select(User.id).where(User.role == "admin", User.active.is_(True))
    if session.get_bind().dialect.name == "postgresql":
        return len(session.scalars(admins.with_for_update()).all())
    session.execute(text("UPDATE \"user\" SET id = id WHERE role = 'admin'"))
    return len(session.scalars(admins).all())


def _refuse_losing_admin(session: Session, actor: User | None, user: User, verb: str) -> None:
    if actor is not None and actor.id == user.id:
        raise UserError(f"You cannot {verb} yourself; ask another admin to do it.")
    if user.role == "admin" and user.active and _lock_admins(session) <= 1:
        raise UserError(f"You cannot {verb} {user.email}: they are the last active admin.")


def change_role(session: Session, actor: User | None, user: User, role: str) -> bool:
    """Give ``user`` the role ``role``; returns False when they already hold it.

    Raises UserError for an unknown role, for an admin demoting themselves, and for
    demoting the last active admin. Does not commit.
    """
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if user.role == role:
        return False
    if user.role == "admin":
        _refuse_losing_admin(session, actor, user, "remove the admin role from")
    user.role = role
    session.flush()
    return True


def deactivate(session: Session, actor: User | None, user: User) -> bool:
    """Stop ``user`` signing in or using their API tokens; returns False if already inactive.

    Raises UserError when an admin deactivates themselves or the last active admin. Does not commit.
    """
    if not user.active:
        return False
    _refuse_losing_admin(session, actor, user, "deactivate")
    user.active = False
    user.end_sessions()
    session.flush()
    return True


def reactivate(session: Session, user: User) -> bool:
    """Let ``user`` sign in again (their unrevoked tokens work again); returns False if already active."""
    if user.active:
        return False
    user.active = True
    session.flush()
    return True


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """Set a new password after checking the current one, and end every session of the user
    (the caller signs the current one in again). Raises UserError. Does not commit."""
    if not user.check_password(current):
        raise UserError("The current password is not right.")
    if len(new) < MIN_PASSWORD:
        raise UserError(f"the password must be at least {MIN_PASSWORD} characters")
    user.set_password(new)
    user.end_sessions()
    session.flush()


# --- API tokens ------------------------------------------------------------------------------

TOKEN_PREFIX = "pcr_"
LAST_USED_EVERY = timedelta(minutes=5)
TOKEN_NAME_MAX = 100
# The lifetimes offered for a new token, in days; None (the default) never expires.
TOKEN_LIFETIMES = (None, 7, 30, 90, 365)


def hash_token(plain: str) -> str:
    """The sha256 hex digest stored for a token; the plain token is never stored."""
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def create_token(
    session: Session, user: User, name: str, now: datetime, lifetime_days: int | None = None
) -> tuple[ApiToken, str]:
    """Create an API token for ``user``, expiring ``lifetime_days`` after ``now`` (None: never);
    returns the row and the plain token, which exists only here.

    Raises UserError for an empty or too long name, one the user already gives a live token,
    or a lifetime not in TOKEN_LIFETIMES.
    """
    if lifetime_days not in TOKEN_LIFETIMES:
        days = ", ".join(str(d) for d in TOKEN_LIFETIMES if d)
        raise UserError(f"a token lasts {days} days or never expires, not {lifetime_days!r} days")
    name = name.strip()
    if not name:
        raise UserError("Give the token a name, e.g. the script that will use it.")
    if len(name) > TOKEN_NAME_MAX:
        raise UserError(f"the name must be at most {TOKEN_NAME_MAX} characters")
    taken = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.name == name, ApiToken.revoked_at.is_(None))
    ).all()
    if any(token.is_live(now) for token in taken):
        raise UserError(f"You already have a token named {name!r}; revoke it or choose another name.")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = now + timedelta(days=lifetime_days) if lifetime_days else None
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_token(plain), created_at=now, expires_at=expires_at)
    session.add(token)
    session.flush()
    return token, plain


def user_tokens(session: Session, user: User) -> list[ApiToken]:
    """The user's tokens, live ones first, newest first."""
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke_token(session: Session, user: User, token_id: int, now: datetime) -> ApiToken:
    """Revoke one of ``user``'s own tokens (idempotent: an already revoked one keeps its time).

    Raises LookupError when the token does not exist or belongs to someone else.
    """
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise LookupError(f"no token {token_id} of yours")
    if token.revoked_at is None:
        token.revoked_at = now
        session.flush()
    return token


def authenticate_token(session: Session, plain: str | None, now: datetime | None = None) -> User | None:
    """The active user a live token belongs to, or None; records ``now`` as the token's last use
    when the recorded one is older than LAST_USED_EVERY.

    Revoked and expired tokens, and tokens of deactivated users, authenticate nobody. Flushes the
    last-used time; the caller commits (also after a read-only request) to keep it.
    """
    if not plain or not plain.startswith(TOKEN_PREFIX) or len(plain) > 200:
        return None
    now = now if now is not None else utcnow()
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(plain)))
    if token is None or not token.is_live(now) or not token.user.active:
        return None
    # Kept to LAST_USED_EVERY, so reads through the API do not each write a row.
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        token.last_used_at = now
        session.flush()
    return token.user
