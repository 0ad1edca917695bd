"""Helpers shared by the web tests: users with a cheap password hash, and signing a test client in."""

from __future__ import annotations

from werkzeug.security import generate_password_hash

from app.models import User

PASSWORD = "correct horse"


def add_user(session, email: str, role: str, *, active: bool = True, password: str = PASSWORD) -> User:
    """A committed user; a cheap hash keeps tests quick (the real one takes ~0.6 s here)."""
    user = User(
        email=email,
        role=role,
        active=active,
        password_hash=generate_password_hash(password, method="pbkdf2:sha256:1000"),
    )
    session.add(user)
    session.commit()
    return user


def sign_in(client, user: User) -> None:
    """Sign ``client`` in as ``user`` through Flask-Login's session keys."""
    with client.session_transaction() as sess:
        sess["_user_id"] = user.get_id()
        sess["_fresh"] = True
