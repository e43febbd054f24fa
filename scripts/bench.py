"""Benchmark the app at province scale on SQLite and PostgreSQL, against the goals in docs/benchmarks.md.

    bash scripts/bench.sh                       # installs, starts a throwaway PostgreSQL, runs this script
    .venv/bin/python scripts/bench.py           # SQLite only (PostgreSQL too when QA_BENCH_POSTGRES_URL is set)
    .venv/bin/python scripts/bench.py --national   # also the national set, if you have the time (see the docs)

Builds each data set with the demo generator (QA_BENCH_POSTGRES_URL: EVERY TABLE OF THAT DATABASE IS DROPPED),
then measures, through the application:

* the compliance dashboard, drill-downs, exports and API (Flask test client, median and p95 of N requests
  after one warm-up), the bare SQL aggregate alone, and the ratio dashboard / bare aggregate ("app/floor");
* the inspection form page of the ~100-item checklist: server time, bytes and gzip bytes of the page and of
  each static asset it references, the number of requests, and third-party references (parsed from the HTML
  and CSS: must be none);
* autosave under load: S supervisors at once, each on their own draft, answering every item through the JSON
  API of a gunicorn server on loopback (bounded in answers and seconds), latency median/p95, errors, and a
  check that every answer the server acknowledged is stored with the value sent;
* the minutes: render + sign of the 100-item sample (median);
* the tablet walk (SQLite): one whole inspection done in Chromium on the Galaxy Tab S4 profile, in the normal and
  the focused mode, counting taps and screens (scripts/bench_walk.py);
* peak RSS of a fresh process serving the dashboard.

Figures go to stdout as a Markdown table and, with --json, to a file. Speed is never asserted here or in the
tests (tests/test_bench.py only checks that these helpers still run on a tiny set).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import gzip
import http.cookiejar
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import bench_compliance  # noqa: E402

from qa_app import create_app  # noqa: E402
from qa_app.auth.models import User  # noqa: E402
from qa_app.extensions import db, refresh_statistics  # noqa: E402

AS_OF = bench_compliance.AS_OF
BENCH_PASSWORD = "Bench-password-2026"


@dataclasses.dataclass
class Row:
    """One measured figure: median and p95 in milliseconds (p95 None for single values)."""

    group: str
    what: str
    median: float
    p95: float | None = None
    unit: str = "ms"


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (0 < share ≤ 1) of a non-empty list."""
    return bench_compliance._percentile(values, share)


def timed(n: int, call: Callable[[], object]) -> tuple[float, float]:
    """(median, p95) in ms of n calls after one warm-up call."""
    _label, median, p95 = bench_compliance._time("", n, call)
    return median, p95


def cpu_timed(n: int, call: Callable[[], object]) -> float:
    """Median CPU time (ms) of this process over n calls after a warm-up: less sensitive to a busy machine
    than wall time (SQLite runs in-process, so it is counted; a PostgreSQL server's work is not)."""
    call()
    samples = []
    for _ in range(n):
        started = time.process_time()
        call()
        samples.append((time.process_time() - started) * 1000)
    return statistics.median(samples)


# ---------------------------------------------------------------------------------------------- data sets


def build(url: str, params: Any, reuse: bool = False) -> tuple[Any, float | None, str]:
    """An app on ``url`` filled with the generator's data set: (app, generation seconds or None, summary)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "INSTANCE_PATH": tempfile.mkdtemp(prefix="qa-bench-")})
    from qa_app.demo.generator import generate
    from qa_app.facilities.models import Facility

    with app.app_context():
        if reuse and sa.inspect(db.engine).has_table("facility") and db.session.scalar(
                sa.select(sa.func.count()).select_from(Facility)):
            return app, None, "reused"
        _empty_database()
        db.create_all()
        started = time.perf_counter()
        summary = generate(params)
        db.session.commit()
        seconds = time.perf_counter() - started
        # Statistics, as a running PostgreSQL server's autovacuum would gather them (SQLite never does).
        refresh_statistics(db.engine)
        return app, seconds, summary.describe()


def _empty_database() -> None:
    """Drop every table, including those of an older schema (a stale benchmark file), not only ours."""
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
    elif engine.url.database not in (None, "", ":memory:"):
        engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(engine.url.database + suffix).unlink(missing_ok=True)
    else:
        db.drop_all()


def row_counts(app: Any) -> dict[str, int]:
    """Facilities, inspections and answers in the database."""
    from qa_app.facilities.models import Facility
    from qa_app.inspections.models import Answer, Inspection

    with app.app_context():
        return {name: db.session.scalar(sa.select(sa.func.count()).select_from(model))
                for name, model in (("facilities", Facility), ("inspections", Inspection), ("answers", Answer))}


# ---------------------------------------------------------------------------------------------- compliance


def compliance_rows(app: Any, n: int) -> list[Row]:
    """Dashboard, drill-downs, exports, API and the bare aggregate; then app/floor ratios."""
    rows = [Row("compliance", label, median, p95) for label, median, p95 in bench_compliance._bench(app, n)]
    client = _admin_client(app)

    def dashboard() -> None:
        assert client.get(f"/compliance/?date={AS_OF.isoformat()}").status_code == 200

    rows.insert(1, Row("compliance", "dashboard, whole country: CPU time of the app process",
                       cpu_timed(max(1, n // 2), dashboard)))
    floor = next(r for r in rows if r.what.startswith("bare SQL aggregate (both"))
    for r in list(rows):
        if r.what.startswith(("dashboard", "drill-down")):
            rows.append(Row("compliance", f"app/floor: {r.what} / bare aggregate", r.median / floor.median,
                            r.p95 / floor.p95 if r.p95 and floor.p95 else None, "×"))
    return rows


# ---------------------------------------------------------------------------------------------- form page


class _Refs(HTMLParser):
    """Every URL a page makes the browser fetch: stylesheets, scripts, images, icons, manifests, frames."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "link" and a.get("href") and (a.get("rel") or "").lower() not in ("canonical", "alternate"):
            self.urls.append(a["href"] or "")
        elif tag in ("script", "img", "iframe", "source", "audio", "video", "embed") and a.get("src"):
            self.urls.append(a["src"] or "")
        elif tag == "object" and a.get("data"):
            self.urls.append(a["data"] or "")


CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")


def page_weight(client: Any, path: str, host: str = "localhost") -> dict[str, Any]:
    """Bytes and gzip bytes of a page and of every asset it references; third-party references listed."""
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    html = response.data
    parser = _Refs()
    parser.feed(html.decode("utf-8"))
    seen: set[str] = set()
    assets: list[tuple[str, int, int]] = []
    third_party: list[str] = []
    queue = list(parser.urls)
    while queue:
        ref = queue.pop(0)
        parts = urllib.parse.urlsplit(ref)
        if parts.scheme == "data":
            continue
        if parts.netloc and parts.netloc != host:
            third_party.append(ref)
            continue
        local = parts.path + (f"?{parts.query}" if parts.query else "")
        if local in seen:
            continue
        seen.add(local)
        asset = client.get(local)
        body = asset.get_data()
        asset.close()  # static files are streamed from an open file
        assert asset.status_code == 200, (local, asset.status_code)
        assets.append((local, len(body), len(gzip.compress(body, 6))))
        if local.split("?")[0].endswith(".css"):
            for a, b in CSS_URL.findall(body.decode("utf-8", "replace")):
                queue.append(urllib.parse.urljoin(local, a or b))
    return {"path": path, "bytes": len(html), "gzip": len(gzip.compress(html, 6)), "assets": assets,
            "total_bytes": len(html) + sum(a[1] for a in assets),
            "total_gzip": len(gzip.compress(html, 6)) + sum(a[2] for a in assets),
            "requests": 1 + len(assets), "third_party": third_party}


def _admin_client(app: Any) -> Any:
    with app.app_context():
        admin = bench_compliance.bench_admin()  # Lighthouse alone may come before the compliance figures
        ids = (admin.id, admin.password_hash[-16:])
    client = app.test_client()
    with client.session_transaction() as session:
        session["user_id"], session["pw"] = ids
    return client


def largest_draft(app: Any) -> tuple[int, int]:
    """(inspection id, applicable items) of the draft with the most applicable items."""
    from qa_app.inspections import services
    from qa_app.inspections.models import Inspection
    from qa_app.scoring import applicable_items

    best = (0, -1)
    with app.app_context():
        for inspection in db.session.scalars(sa.select(Inspection).where(Inspection.status == "draft")):
            count = sum(1 for _i, ok, _r in applicable_items(services.checklist_for(inspection),
                                                               services.profile_of(inspection)) if ok)
            best = max(best, (count, inspection.id))
    assert best[1] != -1, "the data set has no draft inspection"
    return best[1], best[0]


def form_rows(app: Any, n: int) -> tuple[list[Row], dict[str, Any]]:
    """Server time and weight of the inspection form page with the most items."""
    inspection_id, items = largest_draft(app)
    client = _admin_client(app)
    path = f"/inspections/{inspection_id}/form"

    def get() -> None:
        assert client.get(path).status_code == 200

    median, p95 = timed(n, get)
    cpu = cpu_timed(max(1, n // 2), get)
    weight = page_weight(client, path)
    weight["items"] = items
    rows = [
        Row("form", f"form page server time ({items} applicable items)", median, p95),
        Row("form", "form page: CPU time of the app process", cpu),
        Row("form", "form page + assets, gzip", weight["total_gzip"] / 1024, unit="KiB"),
        Row("form", "form page + assets, uncompressed", weight["total_bytes"] / 1024, unit="KiB"),
        Row("form", "requests to load the page (page + static assets)", weight["requests"], unit="requests"),
        Row("form", "third-party requests", len(weight["third_party"]), unit="requests"),
    ]
    return rows, weight


# ---------------------------------------------------------------------------------------------- autosave


@dataclasses.dataclass
class Plan:
    """One supervisor's session for the load test: who, which draft, which answers to send."""

    username: str
    inspection_id: int
    answers: list[tuple[str, str]]  # (item id, value)


def _value_for(item: Any) -> str:
    if item.answer_type == "yes_no_na":
        return "met"
    if item.answer_type == "scale":
        return str(item.scale_max if item.scale else 1)
    if item.answer_type == "number":
        return "3"
    return "ok"


def prepare_supervisors(app: Any, count: int, max_items: int | None = None) -> list[Plan]:
    """``count`` new supervisors, each with a new draft on a station without open work, and its answers."""
    from qa_app.facilities.models import Facility
    from qa_app.inspections import services
    from qa_app.inspections.models import Inspection
    from qa_app.scoring import applicable_items

    plans: list[Plan] = []
    today = dt.date.today()
    with app.app_context():
        busy = sa.select(Inspection.facility_id).where(Inspection.status.in_(("draft", "submitted", "returned")))
        facilities = db.session.scalars(
            sa.select(Facility).where(Facility.id.not_in(busy), Facility.active_to.is_(None),
                                      Facility.active_from <= today)
            .order_by(sa.case((Facility.type == "TYT", 0), else_=1), Facility.id).limit(count)).all()
        if len(facilities) < count:
            raise RuntimeError(f"only {len(facilities)} facilities without open work for {count} supervisors")
        stamp = int(time.time())
        for number, facility in enumerate(facilities, 1):
            user = User(username=f"bench-sup-{stamp}-{number}", full_name=f"Giám sát {number}", role="supervisor",
                        scope_unit_id=facility.unit_id)
            user.set_password(BENCH_PASSWORD)
            db.session.add(user)
            db.session.flush()
            inspection = services.start_inspection(facility, user, on=today)
            db.session.flush()
            items = [(i.id, _value_for(i)) for i, ok, _r in applicable_items(
                services.checklist_for(inspection), services.profile_of(inspection)) if ok]
            plans.append(Plan(user.username, inspection.id, items[:max_items] if max_items else items))
        db.session.commit()
    return plans


class _Session:
    """A browser-like client: cookies, the CSRF token of the form page, JSON PUTs."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.csrf = ""

    def _token(self, html: str, pattern: str) -> str:
        match = re.search(pattern, html)
        if not match:
            raise RuntimeError("no CSRF token in the page")
        return match.group(1)

    def login(self, username: str, password: str) -> None:
        page = self.opener.open(self.base + "/login", timeout=30).read().decode()
        token = self._token(page, r'<meta name="csrf-token" content="([^"]+)"')  # the session's token
        body = urllib.parse.urlencode({"username": username, "password": password, "csrf_token": token}).encode()
        self.opener.open(self.base + "/login", body, timeout=30).read()

    def open_form(self, inspection_id: int) -> None:
        page = self.opener.open(f"{self.base}/inspections/{inspection_id}/form", timeout=30).read().decode()
        self.csrf = self._token(page, r'<meta name="csrf-token" content="([^"]+)"')

    def put_answer(self, inspection_id: int, item_id: str, value: str) -> int:
        request = urllib.request.Request(
            f"{self.base}/api/v1/inspections/{inspection_id}/answers/{item_id}", method="PUT",
            data=json.dumps({"value": value, "base_revision": 0}).encode(),
            headers={"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": self.csrf})
        try:
            with self.opener.open(request, timeout=30) as response:
                response.read()
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code


def run_autosave(base: str, plans: list[Plan], seconds: float, think: float = 0.0) -> dict[str, Any]:
    """Every supervisor at once: sign in, open the form, send each answer in turn (stop at ``seconds``).

    ``think``: seconds from one tap to the next of the same supervisor (0: back to back, a stress test; a
    supervisor reading the checklist on site taps every several seconds at most).
    """
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    acknowledged: dict[int, dict[str, str]] = {p.inspection_id: {} for p in plans}
    failures: list[str] = []
    lock = threading.Lock()
    # The answering window (and the wall time) starts when every supervisor has signed in (scrypt is slow).
    window: list[float] = [time.perf_counter(), time.perf_counter() + seconds + 300]

    def go() -> None:
        window[:] = [time.perf_counter(), time.perf_counter() + seconds]

    ready = threading.Barrier(len(plans), action=go)

    def supervisor(plan: Plan, number: int) -> None:
        session = _Session(base)
        try:
            session.login(plan.username, BENCH_PASSWORD)
            session.open_form(plan.inspection_id)
        except Exception as exc:  # noqa: BLE001 — counted as an error, the others go on
            with lock:
                failures.append(f"{plan.username}: {exc}")
            plan = dataclasses.replace(plan, answers=[])
        with contextlib.suppress(threading.BrokenBarrierError):
            ready.wait(timeout=300)  # all sessions start tapping together
        # Paced supervisors start spread over one think time, as people do, not in lockstep.
        time.sleep(think * number / len(plans) if think else 0)
        for item_id, value in plan.answers:
            if time.perf_counter() > window[1]:
                break
            started = time.perf_counter()
            try:
                status = session.put_answer(plan.inspection_id, item_id, value)
            except OSError as exc:
                status = 0
                with lock:
                    failures.append(f"{plan.username} {item_id}: {exc}")
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                statuses[str(status)] = statuses.get(str(status), 0) + 1
                if status == 200:
                    acknowledged[plan.inspection_id][item_id] = value
            time.sleep(max(0.0, think - elapsed / 1000))

    threads = [threading.Thread(target=supervisor, args=(p, i)) for i, p in enumerate(plans)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - window[0]
    sent = len(latencies)
    return {"supervisors": len(plans), "sent": sent, "planned": sum(len(p.answers) for p in plans),
            "statuses": statuses, "errors": sent - statuses.get("200", 0) + len(failures), "failures": failures[:5],
            "median": statistics.median(latencies) if latencies else None,
            "p95": percentile(latencies, 0.95) if latencies else None,
            "wall_s": wall, "throughput": sent / wall if wall else 0.0, "acknowledged": acknowledged}


def lost_answers(app: Any, acknowledged: dict[int, dict[str, str]]) -> list[str]:
    """Acknowledged answers that are not stored with the value sent (must be none)."""
    from qa_app.inspections.models import Answer

    lost = []
    with app.app_context():
        for inspection_id, sent in acknowledged.items():
            stored = dict(db.session.execute(sa.select(Answer.item_id, Answer.value)
                                             .where(Answer.inspection_id == inspection_id)).all())
            lost += [f"{inspection_id}/{item}" for item, value in sent.items() if stored.get(item) != value]
    return lost


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn_server(url: str, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """gunicorn serving the app on ``url`` on a free loopback port (waits until it answers)."""
    port = _free_port()
    config = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-gunicorn",
              "INSTANCE_PATH": tempfile.mkdtemp(prefix="qa-bench-gunicorn-")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", f"qa_app:create_app({config!r})"], cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(base + "/login", timeout=2).read()
            return proc, base
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("gunicorn exited; is it installed (pip install -e '.[postgres]')?") from None
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("gunicorn did not answer within 30 s")


def autosave_rows(app: Any, url: str, supervisors: int, seconds: float, workers: int,
                  thinks: tuple[float, ...] = (0.0, 2.0)) -> tuple[list[Row], list[dict[str, Any]]]:
    """The load test against gunicorn, back to back and paced (new drafts each), and the stored-answer check."""
    proc, base = gunicorn_server(url, workers)
    rows: list[Row] = []
    results: list[dict[str, Any]] = []
    try:
        for think in thinks:
            plans = prepare_supervisors(app, supervisors)
            result = run_autosave(base, plans, seconds, think)
            lost = lost_answers(app, result.pop("acknowledged"))
            result.update(lost=len(lost), lost_examples=lost[:5], workers=workers, think=think)
            results.append(result)
            how = f"one tap every {think:g} s each" if think else "back to back"
            rows += [
                Row("autosave", f"autosave PUT, {supervisors} supervisors at once, {how}, gunicorn {workers} "
                    "workers", result["median"] or 0.0, result["p95"]),
                Row("autosave", f"({how}) answers sent / planned (limit {seconds:.0f} s)", result["sent"],
                    unit=f"/ {result['planned']}"),
                Row("autosave", f"({how}) errors (non-200 or failed requests)", result["errors"], unit="requests"),
                Row("autosave", f"({how}) acknowledged answers not stored", result["lost"], unit="answers"),
                Row("autosave", f"({how}) throughput", result["throughput"], unit="answers/s"),
            ]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return rows, results


# ---------------------------------------------------------------------------------------------- read model


def read_model_rows(app: Any, n: int) -> list[Row]:
    """The compliance read model: a full rebuild, the check against a recomputation (its differences are
    reported, none expected), and the write an approval adds, refresh([facility]) on facilities with approved
    inspections, each in a transaction rolled back (the approval does the same write in its own transaction)."""
    from qa_app.inspections import status
    from qa_app.inspections.models import Inspection

    with app.app_context():
        started = time.perf_counter()
        rebuilt = status.rebuild()
        rebuild_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        differing = status.check()
        check_ms = (time.perf_counter() - started) * 1000
        facilities = db.session.scalars(sa.select(Inspection.facility_id).where(Inspection.status == "approved")
                                        .group_by(Inspection.facility_id).order_by(Inspection.facility_id)
                                        .limit(n + 1)).all()
        turn = iter(facilities * 2)

        def approval_write() -> None:
            status.refresh([next(turn)])
            db.session.rollback()

        median, p95 = timed(min(n, len(facilities) - 1), approval_write)
    return [Row("read model", f"flask compliance rebuild, whole set ({rebuilt:,} intervals)", rebuild_ms,
                unit="ms"),
            Row("read model", f"flask compliance check, whole set ({len(differing)} facilities differ)", check_ms,
                unit="ms"),
            Row("read model", "approval's read-model write: refresh of one facility's intervals", median, p95)]


# ---------------------------------------------------------------------------------------------- minutes, RSS


def minutes_rows(n: int) -> list[Row]:
    """Render + sign (PAdES B-LT: certification, demo TSA timestamp, DSS with CRL) of the 100-item sample minutes.

    Fonts are registered once and the signing key loaded once, as in a running server.
    """
    from qa_app.checklists.loader import load_checklist
    from qa_app.pdf import signing
    from qa_app.pdf.minutes import build_minutes_pdf, register_fonts
    from qa_app.pdf.sample import sample_view

    view = sample_view(load_checklist(ROOT / "checklists" / "fp-quality" / "v1.yaml"))
    with tempfile.TemporaryDirectory() as tmp:
        key = signing.load_signing_key(None, None, tmp, unit_name="TRUNG TÂM KIỂM SOÁT BỆNH TẬT",
                                       unit_code="TTKSBT")
        register_fonts()
        median, p95 = timed(n, lambda: signing.sign_pdf(build_minutes_pdf(view), key))
        cpu = cpu_timed(max(1, n // 2), lambda: signing.sign_pdf(build_minutes_pdf(view), key))
    return [Row("minutes", "minutes render + sign + timestamp, B-LT (100 items)", median, p95),
            Row("minutes", "minutes render + sign + timestamp: CPU time", cpu)]


def rss_child(url: str, n: int, path: str | None = None) -> None:
    """In a fresh process: RSS after start-up, then peak RSS over n requests of ``path`` (default: the whole-country
    dashboard), printed as JSON. A streamed body is read chunk by chunk and dropped, as a server sends it."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "INSTANCE_PATH": tempfile.mkdtemp(prefix="qa-bench-rss-")})
    client = _admin_client(app)
    client.get("/login")
    before = _vm_kib("VmRSS")
    path = path or f"/compliance/?date={AS_OF.isoformat()}"
    size = 0
    for _ in range(n):
        response = client.get(path)
        assert response.status_code == 200
        size = sum(len(chunk) for chunk in response.response)
        response.close()
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork and exec, so a child would report at least the
    # benchmark process's own size (every figure read the same before this).
    print(json.dumps({"startup_kib": before, "peak_kib": _vm_kib("VmHWM"),
                      "end_kib": _vm_kib("VmRSS"), "bytes": size}))


def _vm_kib(field: str) -> int:
    """A memory figure of this process from /proc (Linux), in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _rss(url: str, n: int, path: str | None = None) -> dict[str, int]:
    command = [sys.executable, __file__, "--rss-child", url, "--requests", str(n)]
    if path:
        command += ["--rss-path", path]
    out = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def rss_rows(url: str, n: int) -> list[Row]:
    """Peak RSS of a fresh process serving the whole-country dashboard n times, then of one exporting the
    whole country's facilities (CSV streamed, XLSX in openpyxl's write-only mode) twice."""
    figures = _rss(url, n)
    rows = [Row("memory", "RSS after start-up (app created, first page served)", figures["startup_kib"] / 1024,
                unit="MiB"),
            Row("memory", f"peak RSS over {n} whole-country dashboards", figures["peak_kib"] / 1024, unit="MiB")]
    for ext in ("csv", "xlsx"):
        export = _rss(url, 2, f"/compliance/export/facilities.{ext}?date={AS_OF.isoformat()}")
        rows.append(Row("memory", f"peak RSS exporting facilities.{ext}, whole country "
                                  f"({export['bytes'] / 2**20:.1f} MiB file)", export["peak_kib"] / 1024, unit="MiB"))
    return rows


# ---------------------------------------------------------------------------------------------- Lighthouse


# Lighthouse's tablet profile: a 10.9" tablet in portrait (the supervisors' device; the browser suite uses
# the same size), touch, no network or CPU throttling (the server is on loopback, the figures are the app's).
LIGHTHOUSE_TABLET = ["--form-factor=mobile", "--screenEmulation.mobile", "--screenEmulation.width=820",
                     "--screenEmulation.height=1180", "--screenEmulation.deviceScaleFactor=2",
                     "--throttling-method=provided"]


def lighthouse_pages(app: Any) -> dict[str, tuple[str, bool]]:
    """The main pages, as the browser suite's axe check visits them: name -> (path, needs the admin's session)."""
    from qa_app.facilities.models import Facility
    from qa_app.inspections.models import Inspection

    inspection_id, _items = largest_draft(app)
    with app.app_context():
        facility = db.session.scalar(sa.select(Facility.id).join(Inspection)
                                     .where(Inspection.status == "approved").order_by(Facility.id).limit(1))
        submitted = db.session.scalar(sa.select(Inspection.id).where(Inspection.status == "submitted")
                                      .order_by(Inspection.id).limit(1))
    assert facility is not None and submitted is not None, "the data set has no approved or submitted inspection"
    return {"sign-in page": ("/login", False), "facility list": ("/facilities/", True),
            "facility page": (f"/facilities/{facility}", True),
            "inspection form": (f"/inspections/{inspection_id}/form", True),
            "review page": (f"/review/inspections/{submitted}", True),
            "compliance dashboard": (f"/compliance/?date={AS_OF.isoformat()}", True),
            "minutes verification": ("/verify", False)}


def _quiet_handler() -> Any:
    """Werkzeug's request handler without the request log, which would bury the figures."""
    from werkzeug.serving import WSGIRequestHandler

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args: object, **kwargs: object) -> None:
            pass

    return Quiet


def lighthouse_rows(app: Any, lighthouse: str) -> tuple[list[Row], dict[str, Any]]:
    """Lighthouse (npm, driving Debian's Chromium) on the main pages with the tablet profile.

    The app is served by Werkzeug's threaded server on loopback (pages and JSON gzipped by the app itself,
    static files as they are), with the administrator's session cookie sent as an extra header.
    """
    from werkzeug.serving import make_server

    pages = lighthouse_pages(app)
    client = _admin_client(app)
    client.get("/login")
    cookie = client.get_cookie("session").value
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_quiet_handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    rows: list[Row] = []
    details: dict[str, Any] = {}
    env = dict(os.environ, CHROME_PATH=os.environ.get("QA_CHROMIUM", "/usr/bin/chromium"))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for name, (path, signed_in) in pages.items():
                out = Path(tmp) / "report.json"
                command = [lighthouse, base + path, "--quiet", "--output=json", f"--output-path={out}",
                           "--chrome-flags=--headless=new --no-sandbox --disable-gpu", *LIGHTHOUSE_TABLET]
                if signed_in:
                    command.append("--extra-headers=" + json.dumps({"Cookie": f"session={cookie}"}))
                subprocess.run(command, env=env, check=True, capture_output=True, timeout=300)
                report = json.loads(out.read_text(encoding="utf-8"))
                audits = report["audits"]
                requests = [r["url"] for r in audits["network-requests"]["details"]["items"]]
                foreign = [u for u in requests if urllib.parse.urlsplit(u).hostname not in ("127.0.0.1", None)]
                scores = {k: v["score"] for k, v in report["categories"].items()}
                details[name] = {"scores": scores, "requests": requests, "third_party": foreign,
                                 "failed": [a["title"] for a in audits.values() if a.get("score") is not None
                                            and a["score"] < 0.9 and a.get("scoreDisplayMode") == "binary"]}
                rows += [
                    Row("lighthouse", f"{name}: scores performance / accessibility / best practices / SEO",
                        (scores.get("performance") or 0.0) * 100, None,
                        "scores: " + " / ".join(f"{(scores.get(k) or 0) * 100:.0f}" for k in
                                   ("performance", "accessibility", "best-practices", "seo"))),
                    Row("lighthouse", f"{name}: largest contentful paint",
                        audits["largest-contentful-paint"]["numericValue"]),
                    Row("lighthouse", f"{name}: total blocking time", audits["total-blocking-time"]["numericValue"]),
                    Row("lighthouse", f"{name}: bytes transferred (pages gzipped, static files not)",
                        audits["total-byte-weight"]["numericValue"] / 1024, unit="KiB"),
                    Row("lighthouse", f"{name}: requests (third-party: {len(foreign)})", len(requests),
                        unit="requests"),
                ]
    finally:
        server.shutdown()
        thread.join(timeout=5)
    return rows, details


# ---------------------------------------------------------------------------------------------- tablet walk


def walk_rows(app: Any) -> tuple[list[Row], list[dict[str, Any]]]:
    """One whole inspection on the tablet profile (scripts/bench_walk.py), in the normal and the focused mode.

    A new supervisor starts a draft on a station of the set; the walk answers every applicable item (three
    failed), finishes, signs and submits it, counting taps and screens. Served by Werkzeug on loopback.
    """
    import bench_walk
    from werkzeug.serving import make_server

    rows: list[Row] = []
    walks: list[dict[str, Any]] = []
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_quiet_handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for focused in (False, True):
            plan = prepare_supervisors(app, 1)[0]
            result = bench_walk.walk(f"http://127.0.0.1:{server.server_port}", plan.username, BENCH_PASSWORD,
                                     plan.inspection_id, focused=focused)
            walks.append({**dataclasses.asdict(result), "screens": result.screens})
            rows += [
                Row("walk", f"whole inspection, {result.mode} mode ({result.items} items, {result.failed} failed): "
                    "taps", result.taps, unit="taps"),
                Row("walk", f"whole inspection, {result.mode} mode: screens (views + scrolling)", result.screens,
                    unit="screens"),
            ]
    finally:
        server.shutdown()
        thread.join(timeout=5)
    return rows, walks


# ---------------------------------------------------------------------------------------------- report


def machine() -> dict[str, Any]:
    """What the figures were measured on, and how busy the machine was."""
    import sqlite3
    from importlib.metadata import version

    info = {"date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), "cpus": os.cpu_count(),
            "python": platform.python_version(), "sqlalchemy": sa.__version__, "flask": version("flask"),
            "sqlite": sqlite3.sqlite_version, "platform": platform.platform(), "load": os.getloadavg()}
    try:
        import psycopg

        info["psycopg"] = psycopg.__version__
    except ImportError:
        pass
    return info


def fmt(row: Row) -> str:
    """One Markdown table line."""
    def num(value: float | None) -> str:
        if value is None:
            return ""
        return f"{value:,.2f}" if row.unit == "×" else f"{value:,.1f}" if value < 100 else f"{value:,.0f}"

    return f"| {row.what} | {num(row.median)} | {num(row.p95)} | {row.unit} |"


def run_target(name: str, url: str, params: Any, args: argparse.Namespace) -> dict[str, Any]:
    """Everything measured on one database."""
    print(f"\n== {name}: building the data set ==", flush=True)
    app, seconds, summary = build(url, params, args.reuse)
    print(summary if seconds is None else f"generated in {seconds:.1f} s\n{summary}", flush=True)
    counts = row_counts(app)
    with app.app_context():
        server = (db.session.scalar(sa.text("SHOW server_version")) if db.engine.dialect.name == "postgresql"
                  else f"SQLite {db.session.scalar(sa.text('SELECT sqlite_version()'))}")
    print(f"database: {server}; rows: {counts}", flush=True)
    rows = read_model_rows(app, args.requests)
    rows += compliance_rows(app, args.requests)
    print("compliance done", flush=True)
    form, weight = form_rows(app, args.requests)
    rows += form
    rows += rss_rows(url, max(3, args.requests // 4))
    lighthouse: dict[str, Any] = {}
    if args.lighthouse and name.startswith("SQLite"):  # the pages are the same on both databases
        more, lighthouse = lighthouse_rows(app, args.lighthouse)
        rows += more
        print("lighthouse done", flush=True)
    walks: list[dict[str, Any]] = []
    if args.walk and name.startswith("SQLite"):  # the form is the same on both databases
        more, walks = walk_rows(app)
        rows += more
        print("tablet walk done", flush=True)
    autosave: list[dict[str, Any]] = []
    if args.supervisors:
        more, autosave = autosave_rows(app, url, args.supervisors, args.autosave_seconds, args.workers,
                                       (0.0, args.think) if args.think else (0.0,))
        rows += more
    with app.app_context():
        db.engine.dispose()
    print(f"\n| {name} | median | p95 | unit |\n|---|---:|---:|---|")
    for row in rows:
        print(fmt(row))
    if weight["third_party"]:
        print("THIRD-PARTY REFERENCES:", weight["third_party"])
    return {"name": name, "server": server, "generation_s": seconds, "counts": counts,
            "rows": [dataclasses.asdict(r) for r in rows],
            "form_assets": weight["assets"], "autosave": autosave, "lighthouse": lighthouse, "walks": walks}


def main() -> None:
    """Parse the arguments, measure every target and print (and optionally save) the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20, help="timed requests per figure (after a warm-up)")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--sqlite", default=None, help="SQLite file (default: one in the temp folder)")
    parser.add_argument("--reuse", action="store_true", help="reuse an already generated database")
    parser.add_argument("--supervisors", type=int, default=20, help="concurrent supervisors (0: no load test)")
    parser.add_argument("--autosave-seconds", type=float, default=60.0, help="upper bound of the load test")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers for the load test")
    parser.add_argument("--think", type=float, default=2.0,
                        help="seconds between taps in the paced load test (0: back-to-back only)")
    parser.add_argument("--national", action="store_true",
                        help="also the national set (~50,000 facilities): tens of minutes of generation per database")
    parser.add_argument("--lighthouse", default=None,
                        help="Lighthouse CLI to run on the main pages (bash scripts/bench.sh installs it from npm)")
    parser.add_argument("--no-walk", dest="walk", action="store_false",
                        help="skip the tablet walk (one whole inspection in Chromium, counting taps and screens)")
    parser.add_argument("--json", type=Path, default=None, help="also write every figure to this file")
    parser.add_argument("--only", choices=("minutes",), default=None,
                        help="measure one part only (minutes: render + sign + timestamp, no database)")
    parser.add_argument("--rss-child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--rss-path", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(args.rss_child, args.requests, args.rss_path)
        return

    from qa_app.demo.generator import DemoParams

    info = machine()
    print(json.dumps(info))
    scales = [] if args.only else ["province"] + (["national"] if args.national else [])
    results = {"machine": info, "targets": []}
    for scale in scales:
        params = DemoParams.for_scale(scale, seed=args.seed)
        sqlite = args.sqlite or Path(tempfile.gettempdir()) / f"qa-bench-{scale}.sqlite"
        targets = [("SQLite", f"sqlite:///{sqlite}")]
        if os.environ.get("QA_BENCH_POSTGRES_URL"):
            targets.append(("PostgreSQL", os.environ["QA_BENCH_POSTGRES_URL"]))
        for name, url in targets:
            results["targets"].append({"scale": scale, **run_target(f"{name}, {scale}", url, params, args)})
            # Saved after every target: a national run takes an hour, and what was measured must survive a failure.
            save(args.json, results)
    minutes = minutes_rows(args.requests)
    print("\n" + "\n".join(fmt(r) for r in minutes))
    results["minutes"] = [dataclasses.asdict(r) for r in minutes]
    results["load_after"] = os.getloadavg()
    print(f"load average at the end: {results['load_after']}")
    save(args.json, results)


def save(path: Path | None, results: dict[str, Any]) -> None:
    """Write the figures measured so far to ``path`` (if given), replacing the file whole."""
    if path:
        partial = path.with_name(path.name + ".part")
        partial.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
        partial.replace(path)


if __name__ == "__main__":
    main()
