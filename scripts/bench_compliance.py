"""Benchmark the compliance dashboard, drill-down, exports, API and the bare SQL aggregate.

Builds a data set with the demo generator into a file SQLite database (and into PostgreSQL when
QA_BENCH_POSTGRES_URL is set: ALL TABLES OF THAT DATABASE ARE DROPPED), then times N requests of each
page through the application's test client and prints the median and 95th percentile.

    .venv/bin/python scripts/bench_compliance.py --scale province --requests 20
    .venv/bin/python scripts/bench_compliance.py --scale province --reuse   # keep the generated file
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_app import create_app  # noqa: E402
from qa_app.auth.models import User  # noqa: E402
from qa_app.compliance.indicators import load_indicators  # noqa: E402
from qa_app.compliance.queries import Area, indicator_counts  # noqa: E402
from qa_app.compliance.report import applicable  # noqa: E402
from qa_app.extensions import db, refresh_statistics  # noqa: E402
from qa_app.facilities.models import Facility  # noqa: E402
from qa_app.inspections.models import Answer, Inspection  # noqa: E402
from qa_app.regions.models import AdminUnit  # noqa: E402

AS_OF = dt.date(2026, 11, 15)  # the demo generator's fixed "today"


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def _time(label: str, n: int, call: Callable[[], object]) -> tuple[str, float, float]:
    call()  # warm-up: template compilation, checklist parse cache, SQLite page cache
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return label, statistics.median(samples), _percentile(samples, 0.95)


def _build(url: str, scale: str, seed: int, reuse: bool) -> object:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "INSTANCE_PATH": tempfile.mkdtemp(prefix="qa-bench-")})
    with app.app_context():
        if reuse and sa.inspect(db.engine).has_table("facility") and db.session.scalar(
                sa.select(sa.func.count()).select_from(Facility)):
            print(f"reusing the data set in {url}")
            return app
        from qa_app.demo.generator import DemoParams, generate

        db.drop_all()
        db.create_all()
        started = time.perf_counter()
        summary = generate(DemoParams.for_scale(scale, seed=seed))
        db.session.commit()
        refresh_statistics(db.engine)
        print(f"generated the {scale} data set in {time.perf_counter() - started:.0f} s")
        print(summary.describe())
    return app


def bench_admin() -> User:
    """The unscoped administrator the benchmarks sign in as, created on first use (inside an app context)."""
    admin = db.session.scalar(sa.select(User).where(User.username == "bench-admin"))
    if admin is None:
        admin = User(username="bench-admin", full_name="Bench", role="admin", scope_unit=None)
        admin.set_password("bench-password-1")
        db.session.add(admin)
        db.session.commit()
    return admin


def _bench(app: object, n: int) -> list[tuple[str, float, float]]:
    with app.app_context():  # type: ignore[attr-defined]
        admin = bench_admin()
        province = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.level == "province",
                                                                AdminUnit.system == "pre2025")
                                     .order_by(AdminUnit.id))
        district = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.level == "district")
                                     .order_by(AdminUnit.id))
        commune = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.level == "commune",
                                                               AdminUnit.system == "2025").order_by(AdminUnit.id))
        counts = {name: db.session.scalar(sa.select(sa.func.count()).select_from(model))
                  for name, model in (("facilities", Facility), ("inspections", Inspection), ("answers", Answer))}
        print("rows:", ", ".join(f"{v:,} {k}" for k, v in counts.items()))
        ids = {"admin": admin.id, "pw": admin.password_hash[-16:], "province": province.id,
               "district": district.id, "commune": commune.id}
    client = app.test_client()  # type: ignore[attr-defined]
    with client.session_transaction() as session:
        session["user_id"] = ids["admin"]
        session["pw"] = ids["pw"]
    date = AS_OF.isoformat()

    def get(url: str) -> Callable[[], object]:
        def call() -> object:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return response.data
        return call

    results = [
        _time("dashboard, whole country (admin)", n, get(f"/compliance/?date={date}")),
        # Fetched by the page after its first paint: every past year of the trajectory, whole country.
        _time("trajectory section, whole country (after the first paint)", n,
              get(f"/compliance/trajectory?date={date}")),
        _time("failing list and most-failed items, whole country (after the first paint)", n,
              get(f"/compliance/failing?date={date}")),
        _time("dashboard, pre-2025 province", n, get(f"/compliance/?date={date}&unit={ids['province']}")),
        _time("drill-down, district", n, get(f"/compliance/?date={date}&unit={ids['district']}")),
        _time("drill-down, 2025 commune", n, get(f"/compliance/?date={date}&unit={ids['commune']}")),
        _time("export indicators.csv", n, get(f"/compliance/export/indicators.csv?date={date}")),
        _time("export indicators.xlsx", n, get(f"/compliance/export/indicators.xlsx?date={date}")),
        _time("export facilities.csv", n, get(f"/compliance/export/facilities.csv?date={date}")),
        _time("export facilities.xlsx", n, get(f"/compliance/export/facilities.xlsx?date={date}")),
        _time("API indicators", n, get(f"/api/v1/compliance/indicators?date={date}")),
        _time("API facilities page 1", n, get(f"/api/v1/compliance/facilities?date={date}")),
    ]
    with app.app_context():  # type: ignore[attr-defined]
        user = db.session.get(User, ids["admin"])
        area = Area(user=user, day=AS_OF)
        indicators = applicable(load_indicators(), area)
        results.append(_time("bare SQL aggregate (both indicators, whole scope)", n,
                             lambda: indicator_counts(area, indicators)))
        results.append(_time("bare SQL aggregate grouped by province", n,
                             lambda: indicator_counts(area, indicators, "unit")))
    return results


def main() -> None:
    """Parse the arguments, build the data sets and print the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=("province", "national"), default="province")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page (after one warm-up)")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--sqlite", default=None, help="SQLite file (default: a file in the temp folder)")
    parser.add_argument("--reuse", action="store_true", help="reuse an already generated database")
    args = parser.parse_args()
    targets = [("SQLite",
                f"sqlite:///{args.sqlite or Path(tempfile.gettempdir()) / f'qa-bench-{args.scale}.sqlite'}")]
    if os.environ.get("QA_BENCH_POSTGRES_URL"):
        targets.append(("PostgreSQL", os.environ["QA_BENCH_POSTGRES_URL"]))
    for name, url in targets:
        print(f"\n== {name}, {args.scale} scale, {args.requests} requests each ==")
        app = _build(url, args.scale, args.seed, args.reuse)
        print(f"{'what':55} {'median ms':>10} {'p95 ms':>10}")
        for label, median, p95 in _bench(app, args.requests):
            print(f"{label:55} {median:10.1f} {p95:10.1f}")


if __name__ == "__main__":
    main()
