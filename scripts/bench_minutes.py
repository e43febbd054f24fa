"""Render and sign a 100-item minutes N times and print the median (goal: well under 0.5 s).

Usage: .venv/bin/python scripts/bench_minutes.py [N]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_app.checklists.loader import load_checklist  # noqa: E402
from qa_app.pdf import signing  # noqa: E402
from qa_app.pdf.minutes import build_minutes_pdf, register_fonts  # noqa: E402
from qa_app.pdf.sample import sample_view  # noqa: E402


def main() -> None:
    """Time build + sign, after one warm-up run (fonts are registered once per process)."""
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    checklist = load_checklist(ROOT / "checklists" / "fp-quality" / "v1.yaml")
    view = sample_view(checklist)
    with tempfile.TemporaryDirectory() as tmp:
        key = signing.load_signing_key(None, None, tmp, unit_name="TRUNG TÂM KIỂM SOÁT BỆNH TẬT", unit_code="TTKSBT")
        register_fonts()
        signing.sign_pdf(build_minutes_pdf(view), key)
        build_times, sign_times, totals, cpu = [], [], [], []
        for _ in range(runs):
            c0 = time.process_time()
            t0 = time.perf_counter()
            pdf = build_minutes_pdf(view)
            t1 = time.perf_counter()
            signed = signing.sign_pdf(pdf, key)
            t2 = time.perf_counter()
            build_times.append(t1 - t0)
            sign_times.append(t2 - t1)
            totals.append(t2 - t0)
            cpu.append(time.process_time() - c0)
        t0 = time.perf_counter()
        check = signing.validate_pdf(signed, key.trust_roots)
        validate = time.perf_counter() - t0
    print(f"{len(checklist.items)} items, {runs} runs, {len(signed) // 1024} KiB signed PDF")
    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:.0f} ms"

    print(f"median build {ms(build_times)}, sign {ms(sign_times)}, total {ms(totals)} (CPU {ms(cpu)}); "
          f"validate {validate * 1000:.0f} ms (valid: {check.valid})")


if __name__ == "__main__":
    main()
