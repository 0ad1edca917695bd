"""Signing in: the password check with equal work for known and unknown emails, the login throttle,
and the session generation that lets a user's sessions end. Plain functions over a session and ``now``."""

from __future__ import annotations

import enum
import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.models import LoginFailure, User
from app.services.users import find_user, normalise_email

THROTTLE_WINDOW = timedelta(minutes=15)
ACCOUNT_LIMIT = 10  # failures for one email within the window
ADDRESS_LIMIT = 50  # failures from one client address within the window


class Outcome(enum.Enum):
    SIGNED_IN = "signed in"
    WRONG = "wrong email or password"
    DEACTIVATED = "deactivated"
    THROTTLED = "throttled"


@dataclass(frozen=True)
class SignInResult:
    outcome: Outcome
    user: User | None = None
    wait: timedelta | None = None  # THROTTLED: how long until the next attempt is heard

    def wait_message(self) -> str:
        minutes = max(1, math.ceil((self.wait or timedelta()).total_seconds() / 60))
        return f"Too many attempts; try again in {minutes} minute{'s' if minutes != 1 else ''}."


def account_key(email: str) -> str:
    # Hashed: the throttle table must not become a list of every email anyone typed.
    return "account:" + hashlib.sha256(normalise_email(email).encode("utf-8", "replace")).hexdigest()


def address_key(address: str | None) -> str:
    return "address:" + (address or "unknown")[:64]


@cache
def _decoy_hash() -> str:
    """A hash of a random password made like real ones, checked when the email is unknown (equal work)."""
    return generate_password_hash(secrets.token_urlsafe(16))


def _blocked_until(session: Session, key: str, limit: int, now: datetime) -> datetime | None:
    """When the ``limit``-th newest failure of ``key`` leaves the window, if it is still inside it."""
    nth_newest = session.scalar(
        select(LoginFailure.at)
        .where(LoginFailure.key == key, LoginFailure.at > now - THROTTLE_WINDOW)
        .order_by(LoginFailure.at.desc())
        .offset(limit - 1)
        .limit(1)
    )
    return nth_newest + THROTTLE_WINDOW if nth_newest is not None else None


def throttle_wait(session: Session, email: str, address: str | None, now: datetime) -> timedelta | None:
    """How long sign-ins for ``email`` or from ``address`` are refused, or None when they are heard."""
    ends = [
        until
        for until in (
            _blocked_until(session, account_key(email), ACCOUNT_LIMIT, now),
            _blocked_until(session, address_key(address), ADDRESS_LIMIT, now),
        )
        if until is not None and until > now
    ]
    return max(ends) - now if ends else None


def record_failure(session: Session, email: str, address: str | None, now: datetime) -> None:
    """Count a failed sign-in against the account and the address; forgets failures older than the window."""
    session.execute(delete(LoginFailure).where(LoginFailure.at <= now - THROTTLE_WINDOW))
    session.add_all([LoginFailure(key=account_key(email), at=now), LoginFailure(key=address_key(address), at=now)])
    session.flush()


def sign_in(session: Session, email: str, password: str, address: str | None, now: datetime) -> SignInResult:
    """Check ``email`` and ``password`` from ``address`` at ``now``; does not commit (the caller must, to keep counts).

    A throttled account or address is refused before the password is looked at, so even the right
    one waits. An unknown email costs the same query, hash check and write as a known one.
    """
    wait = throttle_wait(session, email, address, now)
    if wait is not None:
        return SignInResult(Outcome.THROTTLED, wait=wait)
    user = find_user(session, email)
    if user is None:
        check_password_hash(_decoy_hash(), password)
        matched = False
    else:
        matched = user.check_password(password)
    if not matched:
        record_failure(session, email, address, now)
        return SignInResult(Outcome.WRONG)
    if not user.active:
        return SignInResult(Outcome.DEACTIVATED, user)
    session.execute(delete(LoginFailure).where(LoginFailure.key == account_key(email)))
    return SignInResult(Outcome.SIGNED_IN, user)


def user_for_session(session: Session, session_id: str) -> User | None:
    """The user a session or remember cookie names, if its generation is still current.

    The id is ``"<user id>:<generation>"`` (User.get_id); anything else, including the bare ids
    issued before generations existed, signs nobody in.
    """
    user_part, sep, generation_part = session_id.partition(":")
    if not sep or not user_part.isdigit() or not generation_part.isdigit() or len(session_id) > 40:
        return None
    user = session.get(User, int(user_part)) if int(user_part) < 2**31 else None
    if user is None or user.session_generation != int(generation_part):
        return None
    return user


def end_all_sessions(session: Session, user: User) -> None:
    """Sign ``user`` out everywhere: every session and remember cookie issued so far stops working."""
    user.end_sessions()
    session.flush()
