"""Users and roles."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import ROLES, User

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
