"""Blueprints, one per area; each area's forms sit beside its views and its templates
under templates/<area>/."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from app.web import (
        activity,
        alerts,
        api,
        auth,
        brands,
        campaigns,
        connections,
        dashboard,
        health,
        spend,
        users,
        webhooks,
    )
    from app.web.errors import register_error_handlers
    from app.web.filters import register_filters
    from app.web.rq import mount_rq_dashboard
    from app.web.security import install_security

    install_security(app)
    for module in (
        auth,
        dashboard,
        brands,
        campaigns,
        connections,
        activity,
        alerts,
        spend,
        users,
        webhooks,
        api,
        health,
    ):
        app.register_blueprint(module.bp)
    auth.install_login_guard(app)
    mount_rq_dashboard(app)
    register_error_handlers(app)
    register_filters(app)
