"""Pacer: budget and dayparting control for an agency's campaigns."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from app.config import load_config
from app.extensions import csrf, db, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: config from the environment, then ``config`` on top (tests pass theirs)."""
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    instance = Path((config or {}).get("INSTANCE_PATH") or os.environ.get("PACER_INSTANCE_PATH") or app.instance_path)
    app.instance_path = str(instance)
    app.config.from_mapping(load_config(instance))
    if config:
        app.config.from_mapping(config)

    if app.config.get("PACER_PROXY_COUNT"):
        proxies = app.config["PACER_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    register_extensions(app)
    register_blueprints(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from app import database  # noqa: F401  (installs the SQLite connection settings)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)


# Ids in URLs are INTEGER columns (32-bit on PostgreSQL): a larger number is a 404, not an overflow.
MAX_URL_ID = 2**31 - 1


class BoundedIntConverter(IntegerConverter):
    """<int:...> URL parts beyond a 32-bit id are a 404, not a database overflow."""

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("max", MAX_URL_ID)
        super().__init__(map, *args, **kwargs)


def register_blueprints(app: Flask) -> None:
    from app.web import register_blueprints as register

    app.url_map.converters["int"] = BoundedIntConverter
    register(app)


def register_commands(app: Flask) -> None:
    from app.cli import register

    register(app)
