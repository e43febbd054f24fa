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
    if not _indicators_command():
        _check_indicators(app)

    # Every model module must be imported before Alembic compares metadata.
    from . import models  # noqa: F401

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS)
    csrf.init_app(app)

    from .i18n import init_app as init_i18n
    from .i18n import select_locale

    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")
    init_i18n(app)

    from .core.security import init_app as init_security

    init_security(app)

    from .core.compress import init_app as init_compress

    init_compress(app)

    from .core.errors import init_app as init_errors

    init_errors(app)

    from .admin.views import bp as admin_bp
    from .api.views import bp as api_bp
    from .areas.views import bp as areas_bp
    from .auth.views import bp as auth_bp
    from .compliance.views import api_bp as compliance_api_bp
    from .compliance.views import bp as compliance_bp
    from .core.views import bp as core_bp
    from .facilities.views import bp as facilities_bp
    from .inspections.views import bp as inspections_bp
    from .minutes.views import bp as minutes_bp
    from .offline.views import bp as offline_bp
    from .review.views import bp as review_bp

    # The inspection's finish page, signatures and corrective actions live in the inspections package but keep
    # their /review/... URLs: importing the module registers them on the review blueprint.
    from .inspections import finish  # noqa: F401

    for blueprint in (auth_bp, core_bp, facilities_bp, inspections_bp, review_bp, admin_bp, api_bp,
                      minutes_bp, compliance_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(compliance_api_bp)
    from .compliance.plan_views import bp as plans_bp

    app.register_blueprint(plans_bp)
    app.register_blueprint(offline_bp)
    app.register_blueprint(areas_bp)
    from .rounds.views import bp as rounds_bp

    app.register_blueprint(rounds_bp)
    # The JSON API authenticates with the session and sends the CSRF token in a header (X-CSRFToken).

    from .areas.cli import areas_cli
    from .auth.cli import users_cli
    from .checklists.cli import checklists_cli
    from .cli import qa_cli
    from .facilities.cli import facilities_cli
    from .regions.cli import regions_cli

    app.cli.add_command(checklists_cli)
    app.cli.add_command(qa_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(facilities_cli)
    app.cli.add_command(regions_cli)
    app.cli.add_command(areas_cli)

    from .compliance.cli import compliance_cli, indicators_cli

    app.cli.add_command(indicators_cli)
    app.cli.add_command(compliance_cli)

    from .audit.cli import audit_cli
    from .backup import backup_command, restore_command

    app.cli.add_command(audit_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    return app


class IndicatorsFileError(RuntimeError):
    """The configured indicators file is broken: the app refuses to start and says where."""


def _indicators_command() -> bool:
    """Whether this process is ``flask … indicators …``: that command checks the file itself and reports it
    as file:line with exit status 1, instead of failing while the app loads."""
    import sys
    from pathlib import Path

    return Path(sys.argv[0]).name == "flask" and "indicators" in sys.argv[1:]


def _check_indicators(app: Flask) -> None:
    """Refuse to start on a broken indicators file (the same validator as ``flask indicators validate``).

    Without this, the first visit to the compliance pages would fail for every user with the reason only in
    the server log.
    """
    from .compliance.indicators import DEFAULT_PATH, IndicatorError, load_indicators_cached

    try:
        load_indicators_cached(app.config.get("COMPLIANCE_INDICATORS", DEFAULT_PATH))
    except IndicatorError as exc:
        raise IndicatorsFileError(f"The indicators file has problems; the app will not start:\n{exc}") from None
