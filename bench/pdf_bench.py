"""How long publishing a statement's PDF takes, and how much memory, by number of signatories.

For 100, 1,000 and 5,000 signatory organisations, each case in a fresh process:

- ``publish``: the whole of it, `render_pdf` (template, WeasyPrint, PDF/A-3b) then `sign_pdf`;
- ``weasyprint``: the same HTML rendered by bare WeasyPrint (the floor);
- ``unstyled``: an unstyled list of the same names (the physical floor).

Prints one JSON line per case (CPU and wall-clock seconds, peak resident memory of the process,
pages) and, for each size, one summary line with the ratios the targets speak of (publish within
1.3x of weasyprint, weasyprint within 2.5x of unstyled), taken over CPU time: on a shared machine
wall-clock time mostly measures the neighbours. Each case runs `--repeat` times and the fastest
run is kept. Run from the project folder:

    .venv/bin/python bench/pdf_bench.py [--sizes 100,1000,5000] [--repeat 5] [--timestamps]

``--timestamps`` signs as with ``SIGNING_TIMESTAMP_URL`` set (PAdES B-LTA: three requests to a
local RFC 3161 server, tests/tsa.py, in a process of its own; validation data in a DSS; a
document timestamp), with the development identity in var/signing.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date
from io import BytesIO
from pathlib import Path

from pypdf import PdfReader

ROOT = Path(__file__).resolve().parent.parent
CASES = ("publish", "weasyprint", "unstyled")


def names(count: int) -> list[str]:
    """`count` organisation names, a mix of English and Ukrainian, like a real list."""
    members = (ROOT / "bench" / "names.txt").read_text(encoding="utf-8").split("\n")
    members = [m for m in members if m]
    return [f"{members[i % len(members)]} ({i // len(members) + 1})" for i in range(count)]


def document(count: int):
    from statements import pdf, text

    body = (
        "We, the undersigned organisations, call on the states parties to the Rome Statute to execute "
        "the warrants of the International Criminal Court.\n\n" * 6
    )
    return pdf.PdfDocument(
        coalition_name="Ukraine 5AM Coalition",
        title="On the duty of states to execute the warrants of the International Criminal Court",
        language="en",
        body_html=text.render_markdown(body),
        text_sha256=text.sha256_of("t", "", body),
        verification_url="https://statements.example.org/verify/?sha256=" + "0" * 64,
        short_url="statements.example.org/v/a1b2c3",
        date=date(2024, 9, 3),
        place="Kyiv",
        organisations=names(count),
    )


def start_timestamp_authority():
    """A local timestamp server in its own process, configured as SIGNING_TIMESTAMP_URL (with its
    root and CRL); it stops when this process ends."""
    import tempfile

    from django.conf import settings

    folder = tempfile.mkdtemp(prefix="bench-tsa-")
    server = subprocess.Popen([sys.executable, "-m", "tests.tsa", folder], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    url, root, crl = server.stdout.readline().split()
    settings.SIGNING_TIMESTAMP_URL, settings.SIGNING_TIMESTAMP_ROOT_CERT_FILE = url, root
    settings.SIGNING_CRL_FILES = [*settings.SIGNING_CRL_FILES, crl]
    return server


def run_case(case: str, count: int, timestamps: bool = False) -> dict:
    """Runs in the child process: warm up (imports, fonts), then time one case."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coalition.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    if timestamps:
        start_timestamp_authority()
    import weasyprint

    from statements import pdf

    doc = document(count)
    html = pdf.render_html(doc)
    unstyled = "<!DOCTYPE html><ul>" + "".join(f"<li>{name}</li>" for name in doc.organisations) + "</ul>"
    pdf.sign_pdf(pdf.render_pdf(document(3)))  # warm-up: fonts, key, templates
    weasyprint.HTML(string="<p>warm-up</p>").write_pdf()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, cpu_started = time.perf_counter(), time.process_time()
    if case == "publish":
        output = pdf.sign_pdf(pdf.render_pdf(doc))
    elif case == "weasyprint":
        output = weasyprint.HTML(string=html, base_url=pdf.ASSET_BASE, url_fetcher=pdf.AssetFetcher()).write_pdf()
    else:
        output = weasyprint.HTML(string=unstyled).write_pdf()
    cpu_seconds, seconds = time.process_time() - cpu_started, time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "case": case,
        "signatories": count,
        "timestamps": timestamps,
        "cpu_seconds": round(cpu_seconds, 3),
        "wall_seconds": round(seconds, 3),
        "peak_rss_mb": round(peak / 1024, 1),
        "rss_before_mb": round(before / 1024, 1),
        "pages": len(PdfReader(BytesIO(output)).pages),
        "bytes": len(output),
    }


def measure(case: str, count: int, timestamps: bool = False) -> dict:
    process = subprocess.run(
        [sys.executable, __file__, "--child", case, str(count)] + (["--timestamps"] if timestamps else []),
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    return json.loads(process.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--repeat", type=int, default=5, help="runs per case below 5,000 signatories (the best is kept)")
    parser.add_argument("--timestamps", action="store_true", help="sign as PAdES B-LTA, with a local timestamp server")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_case(args.child[0], int(args.child[1]), args.timestamps)))
        return
    for count in [int(size) for size in args.sizes.split(",")]:
        # Rounds interleave the cases, so a busy neighbour slows all of them alike.
        runs: dict[str, list[dict]] = {case: [] for case in CASES}
        for _ in range(args.repeat if count < 5000 else 1):
            for case in CASES:
                runs[case].append(measure(case, count, args.timestamps))
        best = {case: min(results, key=lambda run: run["cpu_seconds"]) for case, results in runs.items()}
        for case in CASES:
            print(json.dumps(best[case]), flush=True)
        print(json.dumps({
            "summary": count,
            "publish_over_weasyprint": round(best["publish"]["cpu_seconds"] / best["weasyprint"]["cpu_seconds"], 2),
            "weasyprint_over_unstyled": round(best["weasyprint"]["cpu_seconds"] / best["unstyled"]["cpu_seconds"], 2),
            "publish_cpu_ms_per_signatory": round(1000 * best["publish"]["cpu_seconds"] / count, 2),
        }), flush=True)


if __name__ == "__main__":
    main()
