"""What tagging, the embedded signatory files and timestamps add to the time it takes to publish.

For 100, 1,000 and 10,000 signatory organisations (each with a slug, the SHA-256 of the text it
signed and when, as a publication freezes them), each case in a fresh process after a warm-up:

- ``plain``: PDF/A-3b, untagged, no embedded files, signed B-B (how issues were made before);
- ``tagged``: PDF/A-3a (structure tree, language, alternative text), signed B-B;
- ``files``: tagged, with ``signatories.json`` and ``signatories.csv`` embedded, signed B-B (what
  publishing does without ``SIGNING_TIMESTAMP_URL``);
- ``lta``: the same signed PAdES B-LTA against a local RFC 3161 server (tests/tsa.py, in a process
  of its own): signature timestamp, validation data in a DSS, document timestamp (what publishing
  does with ``SIGNING_TIMESTAMP_URL``);
- ``verify``: `verify_pdf` of the ``lta`` file (what /verify/ does with an uploaded B-LTA file).

Prints one JSON line per case (CPU and wall-clock seconds of render + sign, file size, pages) and
one summary line per size with each case's CPU time as a ratio to ``plain`` in the same run: on a
shared machine absolute figures wander, ratios much less. CPU time is this process's only; the
timestamp server's own work is in its process (a real one is remote). The fastest of `--repeat`
runs is kept (one run at 10,000). Run from the project folder:

    .venv/bin/python bench/publish_features_bench.py [--sizes 100,1000,10000] [--repeat 3]
"""

import argparse
import json
import os
import subprocess
import sys
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
CASES = ("plain", "tagged", "files", "lta", "verify")


def document(count: int):
    from dataclasses import replace

    from pdf_bench import document as base_document

    from statements import pdf

    doc = base_document(count)
    organisations = [
        pdf.SignedOrganisation(name, slug=f"organisation-{i}", sha256=doc.text_sha256,
                               signed_at=f"2024-09-0{1 + i % 3}T10:{i % 60:02d}:00+00:00")
        for i, name in enumerate(doc.organisations)
    ]
    return replace(doc, organisations=organisations, slug="bench-statement")


def _publish(doc, case: str) -> bytes:
    from statements import pdf

    if case == "plain":
        unsigned = pdf.html_to_pdf(pdf.render_html(doc), pdf_variant="pdf/a-3b")
    elif case == "tagged":
        unsigned = pdf.html_to_pdf(pdf.render_html(doc))
    else:
        unsigned = pdf.render_pdf(doc)
    return pdf.sign_pdf(unsigned)


def run_case(case: str, count: int) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coalition.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from pdf_bench import start_timestamp_authority
    from pypdf import PdfReader

    from statements import pdf

    if case in ("lta", "verify"):
        start_timestamp_authority()
    doc = document(count)
    _publish(document(3), "files")  # warm-up: fonts, key, templates, the timestamp server
    if case == "verify":
        subject = _publish(doc, "lta")
    started, cpu_started = time.perf_counter(), time.process_time()
    if case == "verify":
        verification = pdf.verify_pdf(subject)
        assert verification.authentic and verification.ltv, verification
        output = subject
    else:
        output = _publish(doc, case)
    cpu_seconds, seconds = time.process_time() - cpu_started, time.perf_counter() - started
    return {
        "case": case,
        "signatories": count,
        "cpu_seconds": round(cpu_seconds, 3),
        "wall_seconds": round(seconds, 3),
        "kilobytes": round(len(output) / 1024),
        "pages": len(PdfReader(BytesIO(output)).pages),
    }


def measure(case: str, count: int) -> dict:
    process = subprocess.run([sys.executable, __file__, "--child", case, str(count)],
                             cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(process.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case below 10,000 (the best is kept)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_case(args.child[0], int(args.child[1]))))
        return
    for count in [int(size) for size in args.sizes.split(",")]:
        runs: dict[str, list[dict]] = {case: [] for case in CASES}
        for _ in range(args.repeat if count < 10000 else 1):
            for case in CASES:  # rounds interleave the cases, so a busy neighbour slows all alike
                runs[case].append(measure(case, count))
        best = {case: min(results, key=lambda run: run["cpu_seconds"]) for case, results in runs.items()}
        for case in CASES:
            print(json.dumps(best[case]), flush=True)
        plain = best["plain"]["cpu_seconds"]
        print(json.dumps({"summary": count, **{f"{case}_over_plain": round(best[case]["cpu_seconds"] / plain, 2)
                                               for case in CASES[1:]}}), flush=True)


if __name__ == "__main__":
    main()
