"""The benchmark script's helpers still run (on a tiny set): it is not part of the suite, so it must not rot.

Figures are never asserted (speed belongs in scripts/bench.py); what is asserted is that each helper measures
what it says: the pages answer, the form page references no third party, every acknowledged answer is stored.
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from types import ModuleType

import pytest
from werkzeug.serving import make_server

from qa_app.demo.generator import DemoParams

from .script_loader import load_script

# Every kind of page the benchmark requests needs: both unit systems, a district, drafts; one year of history.
TINY = DemoParams(seed=5, real_province=False, provinces=1, old_provinces=1, districts=2, old_communes=6,
                  communes=3, public_hospitals=1, private_hospitals=0, clinics=2, pharmacies=2,
                  history_from=dt.date(2026, 1, 1), staff_users=True, fast_scoring=True, signatures=False)


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_script("bench")


def test_bench_helpers_run_on_a_tiny_set(bench: ModuleType, tmp_path: Path) -> None:
    from qa_app.extensions import db

    url = f"sqlite:///{tmp_path / 'bench.sqlite3'}"
    app, seconds, summary = bench.build(url, TINY)
    assert seconds is not None
    assert "Facilities:" in summary
    try:
        assert bench.row_counts(app)["answers"] > 0
        rows = bench.compliance_rows(app, 1)
        labels = {r.what for r in rows}
        assert {"dashboard, whole country (admin)", "export facilities.csv", "API facilities page 1"} <= labels
        assert any(label.startswith("app/floor: dashboard, whole country") for label in labels)

        # The read model: rebuilt and checked (no difference after a rebuild), and the approval's write timed.
        model = bench.read_model_rows(app, 2)
        assert [r.what.split(",")[0].split(":")[0] for r in model] == [
            "flask compliance rebuild", "flask compliance check", "approval's read-model write"]
        assert "(0 facilities differ)" in model[1].what and model[2].p95 is not None

        # Memory, each figure from a fresh process: the dashboard, and the two facility exports read to the end.
        memory = {r.what.split(" (")[0]: r for r in bench.rss_rows(url, 1)}
        assert {"peak RSS exporting facilities.csv, whole country",
                "peak RSS exporting facilities.xlsx, whole country"} <= set(memory)
        assert all(r.median > 0 for r in memory.values())

        # Every page Lighthouse visits answers the administrator (or anyone, for the public ones).
        pages = bench.lighthouse_pages(app)
        assert {"facility page", "review page", "minutes verification"} <= set(pages)
        client = bench._admin_client(app)
        for name, (path, _signed_in) in pages.items():
            assert client.get(path).status_code == 200, name

        form, weight = bench.form_rows(app, 1)
        assert weight["third_party"] == []
        assert weight["requests"] == 1 + len(weight["assets"]) >= 3  # the page, its CSS and its script
        assert any(path.endswith(".js") for path, _size, _gz in weight["assets"])
        assert 0 < weight["gzip"] < weight["bytes"]

        # The load runner against a threaded server on loopback (gunicorn in the real run).
        plans = bench.prepare_supervisors(app, 2, max_items=4)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            result = bench.run_autosave(f"http://127.0.0.1:{server.server_port}", plans, seconds=30)
        finally:
            server.shutdown()
            thread.join(timeout=5)
        assert result["sent"] == 8, result
        assert result["errors"] == 0, result
        assert sum(len(sent) for sent in result["acknowledged"].values()) == 8
        assert bench.lost_answers(app, result["acknowledged"]) == []
        # A value the server never stored is reported as lost.
        first = plans[0]
        assert bench.lost_answers(app, {first.inspection_id: {first.answers[0][0]: "not_met"}}) == [
            f"{first.inspection_id}/{first.answers[0][0]}"]
    finally:
        with app.app_context():
            db.engine.dispose()


def test_page_weight_reports_third_party_references(bench: ModuleType) -> None:
    from flask import Flask

    app = Flask(__name__)

    @app.get("/")
    def page() -> str:
        return ('<html><head><link rel="stylesheet" href="/a.css"><script src="https://cdn.example.org/x.js">'
                '</script></head><body><img src="data:image/png;base64,AA=="></body></html>')

    @app.get("/a.css")
    def css() -> tuple[str, int, dict[str, str]]:
        return "body { background: url('https://fonts.example.com/bg.png') }", 200, {"Content-Type": "text/css"}

    weight = bench.page_weight(app.test_client(), "/")
    assert weight["third_party"] == ["https://cdn.example.org/x.js", "https://fonts.example.com/bg.png"]
    assert [path for path, _size, _gz in weight["assets"]] == ["/a.css"]
    assert weight["requests"] == 2
