"""`flask qa …`: one-step setup of the embedded default, and the demo data generator."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Mapping

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from .auth.models import User
from .extensions import db, refresh_statistics
from .inspections import status
from .inspections.models import Inspection, StatusInterval


@click.group("qa")
def qa_cli() -> None:
    """Set up and seed the application."""


@qa_cli.command("setup")
@click.option("--demo/--no-demo", default=True, help="Seed the demo province when the database has no users.")
@with_appcontext
def setup(demo: bool) -> None:
    """Create or upgrade the database, load the checklists and (once) seed the demo data."""
    from .checklists.loader import ChecklistError
    from .checklists.registry import ImmutableVersionError, sync_directory

    upgrade(directory=current_app.extensions["migrate"].directory)
    click.echo(f"Database ready: {db.engine.url.render_as_string(hide_password=True)}")
    _fill_read_model()
    try:
        report = sync_directory(current_app.config["CHECKLISTS_DIR"])
    except (ChecklistError, ImmutableVersionError) as exc:
        db.session.rollback()
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"Checklists: {len(report.added)} added, {len(report.updated)} updated, "
               f"{len(report.unchanged)} unchanged"
               + (f", {len(report.corrected)} corrected (legal bases)." if report.corrected else "."))
    for warning in loose_key_warnings():
        click.echo(f"WARNING: {warning}", err=True)
    if demo and db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0:
        from .demo.generator import DemoParams, generate
        from .demo.showcase import add_showcase

        params = DemoParams()
        summary = generate(params)
        db.session.commit()
        click.echo(summary.describe())
        click.echo(add_showcase(params.today).describe())
        db.session.commit()
        # The demo's province plans start as the shipped file's, editable under Compliance › Province plans.
        from .compliance.indicators import DEFAULT_PATH, load_indicators
        from .compliance.plans import seed_from_file

        plans = seed_from_file(load_indicators(current_app.config.get("COMPLIANCE_INDICATORS", DEFAULT_PATH)),
                               dt.date(2021, 1, 1))
        db.session.commit()
        click.echo(f"Province plans copied from the indicators file: {plans}.")
        refresh_statistics(db.engine)
    if demo:
        _print_logins()
    for warning in minutes_setup_warnings(current_app.config, demo):
        click.echo(f"WARNING: {warning}", err=True)


def minutes_setup_warnings(config: Mapping[str, object], demo: bool) -> list[str]:
    """What an operator must still configure for minutes with legal value (shown by `flask qa setup`)."""
    if demo:
        return []
    warnings = []
    if not config.get("PUBLIC_BASE_URL"):
        warnings.append("PUBLIC_BASE_URL is not set (QA_PUBLIC_BASE_URL=https://…): the QR code and the printed "
                        "verification address on the minutes would point at http://127.0.0.1:5000.")
    if not config.get("SIGNING_PKCS12"):
        warnings.append("SIGNING_PKCS12 is not set: minutes are signed with the demo certificate (no legal value).")
    elif not config.get("SIGNING_TSA_URL"):
        warnings.append("SIGNING_TSA_URL is not set: minutes cannot be signed (a timestamp is required).")
    return warnings


def loose_key_warnings() -> list[str]:
    """The signing key files (and their folder) that other local accounts may read, one sentence each."""
    import os
    import stat
    from pathlib import Path

    configured = current_app.config.get("SIGNING_PKCS12")
    folder = Path(current_app.instance_path) / "signing"
    paths = [Path(configured)] if configured else ([folder, *sorted(folder.iterdir())] if folder.is_dir() else [])
    warnings = []
    for path in paths:
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except OSError:
            continue
        if mode & 0o077:
            wanted = "700" if path.is_dir() else "600"
            warnings.append(f"{path} is readable by other accounts (mode {mode:04o}): the unit's signing key must "
                            f"be private; run: chmod {wanted} {path}")
    return warnings


def _fill_read_model() -> None:
    """After an upgrade that created the read model, fill it from the inspections already approved."""
    if db.session.scalar(sa.select(StatusInterval.id).limit(1)) is not None:
        return
    if db.session.scalar(sa.select(Inspection.id).where(Inspection.status == "approved").limit(1)) is None:
        return
    written = status.rebuild()
    click.echo(f"Compliance read model filled: {written} result intervals.")


def _print_logins() -> None:
    from .demo.generator import AREA_DEMO_USER, DEMO_PASSWORD, DEMO_USERS

    click.echo("\nDemo logins (password for all: %s)" % DEMO_PASSWORD)
    for username, _full_name, role, _scope in DEMO_USERS:
        click.echo(f"  {username:<14} {role}")
    click.echo(f"  {AREA_DEMO_USER[0]:<14} {AREA_DEMO_USER[2]} (service area {AREA_DEMO_USER[3]})")


@qa_cli.command("seed")
@click.option("--scale", type=click.Choice(["demo", "province", "national"]), default="demo")
@click.option("--seed", type=int, default=2025, help="Random seed: the same seed builds the same data.")
@with_appcontext
def seed(scale: str, seed: int) -> None:
    """Generate a data set (demo, province or national scale) into an empty database."""
    from .demo.generator import DemoParams, generate

    if db.session.scalar(sa.select(sa.func.count()).select_from(User)):
        raise click.ClickException("The database already has users; seed only an empty database.")
    summary = generate(DemoParams.for_scale(scale, seed=seed))
    db.session.commit()
    refresh_statistics(db.engine)
    click.echo(summary.describe())
