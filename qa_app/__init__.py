"""Family-planning service quality inspections: the application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask

from .config import PROJECT_ROOT, load_config
from .extensions import babel, csrf, db, migrate

MIGRATIONS = str(PROJECT_ROOT / "qa_app" / "migrations")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application: configuration, extensions, blueprints and commands; no database work."""
    test_config = dict(test_config or {})
    app = Flask(
        __name__,
        # Tests pass their own instance folder so a developer's instance/config.py never leaks in.
        instance_path=test_config.pop("INSTANCE_PATH", None),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    load_config(app, test_config)

    # Every model module must be imported before Alembic compares metadata.
    from . import models  # noqa: F401

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS)
    csrf.init_app(app)

    from .i18n import init_app as init_i18n
    from .i18n import select_locale

    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")
    init_i18n(app)

    from .auth.views import bp as auth_bp
    from .core.views import bp as core_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(core_bp)

    from .auth.cli import users_cli
    from .checklists.cli import checklists_cli
    from .cli import qa_cli

    app.cli.add_command(checklists_cli)
    app.cli.add_command(qa_cli)
    app.cli.add_command(users_cli)
    return app
