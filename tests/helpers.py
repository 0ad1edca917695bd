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


def add_filler_brands(session) -> None:
    """As many more brands as the brand select lists (app.web.brand_picker): pages then ask for a brand's name."""
    from app.models import Brand
    from app.web.brand_picker import BRAND_SELECT_MAX

    session.add_all(
        Brand(name=f"Brand {i:03d}", timezone="UTC", currency="USD", daily_budget_minor=1, monthly_budget_minor=1)
        for i in range(BRAND_SELECT_MAX)
    )
    session.commit()
