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

``--individuals`` measures what a worker does to publish a statement signed by 38 organisations
and 1,000, 10,000 and 50,000 individuals (``--sizes``): `publishing.prepare` of a pending issue
(load it, render, sign, store, release), in a fresh process after a warm-up, against an SQLite
database and media folder of its own made by another process (the statement, its signatures, the
pending issue, a development signing identity). The fan-out to the signatories is its own task
after commit (bench/outbox_bench.py) and is left out. Two cases per size:

- ``prepare``: as configured (names printed up to PDF_MAX_PRINTED_INDIVIDUALS, 5,000 by default;
  above it the count and where the names are);
- ``printed``: PDF_MAX_PRINTED_INDIVIDUALS raised to the size, so every name is laid out in the
  annex: whether WeasyPrint's cost per name stays flat.

Each line gives CPU and wall-clock seconds, peak resident memory of the worker process (before
the call too), pages, bytes, CPU milliseconds per signatory, and then `verify_pdf` and
`embedded_signatories` of the stored file (seconds, and that the file lists every individual).
A summary line gives each case's cost per signatory at the largest size over the smallest
(the target: within 1.3x). One run per case:

    .venv/bin/python bench/pdf_bench.py --individuals [--sizes 1000,10000,50000]
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


# Individuals ------------------------------------------------------------------------------------

INDIVIDUAL_CASES = ("prepare", "printed")
FIRST_NAMES = ["Олена", "Andriy", "Maria", "Тарас", "Iryna", "Oleksandr", "Наталія", "Dmytro", "Kateryna",
               "Богдан", "Yulia", "Serhiy", "Ганна", "Mykola", "Sofia", "Volodymyr"]
LAST_NAMES = ["Коваленко", "Melnyk", "Shevchenko", "Бондаренко", "Tkachenko", "Kravchenko", "Олійник", "Lysenko",
              "Marchenko", "Руденко", "Savchenko", "Petrenko", "Кузьменко", "Moroz", "Boyko", "Павленко"]


def people(count: int) -> list[tuple[str, str]]:
    """`count` (name, affiliation) pairs; one in three gives an affiliation, as on real lists."""
    members = [m for m in (ROOT / "bench" / "names.txt").read_text(encoding="utf-8").split("\n") if m]
    return [(f"{FIRST_NAMES[i % 16]} {LAST_NAMES[(i // 16) % 16]}", members[i % len(members)] if i % 3 == 0 else "")
            for i in range(count)]


def individuals_environment(folder: Path) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "coalition.settings",
        "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
        "MEDIA_ROOT": str(folder / "media"),
        "SIGNING_KEY_FILE": str(folder / "signing" / "signing-key.pem"),
        "SIGNING_CERT_FILE": str(folder / "signing" / "signing-cert.pem"),
        "SIGNING_ROOT_CERT_FILE": str(folder / "signing" / "root-cert.pem"),
        "SIGNING_PKCS12_FILE": "", "SIGNING_PKCS11_MODULE": "", "SIGNING_TIMESTAMP_URL": "",
        "CELERY_BROKER_URL": "",
    }


def build_individuals(folder: Path, count: int) -> dict:
    """Runs in a child process: the database with a closed statement signed by 38 organisations
    and `count` confirmed individuals, and its first issue pending (its task not run)."""
    from unittest import mock

    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from coalition.models import Organisation
    from statements import pdf_signing, services, tasks
    from statements.models import Signature
    from tests import factories

    pdf_signing.create_development_identity(folder / "signing", name="Ukraine 5AM Coalition")
    call_command("migrate", verbosity=0)
    coalition = factories.CoalitionFactory(name="Ukraine 5AM Coalition", slug="u5am")
    coordinator = factories.CoordinatorFactory(coalition=coalition).user
    statement = factories.make_statement(
        coalition, by=coordinator, status="open", allows_individuals=True,
        title="On executing the warrants of the International Criminal Court",
        body="We call on the states parties to the Rome Statute to execute the warrants of the Court.\n\n" * 6)
    revision, now = statement.signed_revision, timezone.now()
    organisations = Organisation.objects.bulk_create(
        Organisation(name=name, slug=f"organisation-{n}") for n, name in enumerate(names(38)))
    Signature.objects.bulk_create(
        [Signature(statement=statement, revision=revision, sha256=revision.sha256, kind="organisation",
                   organisation=o, signed_by=coordinator) for o in organisations]
        + [Signature(statement=statement, revision=revision, sha256=revision.sha256, kind="individual",
                     name=name, affiliation=affiliation, email=f"person{n}@example.org", confirmed_at=now)
           for n, (name, affiliation) in enumerate(people(count))], batch_size=2000)
    services.close_signing(statement, by=coordinator)
    with mock.patch.object(tasks.prepare_publication, "delay"):  # the worker's part is what is measured
        services.publish(statement, by=coordinator)
    return {"publication": statement.publications.get().pk}


def prepare_individuals(case: str, count: int, publication_id: int) -> dict:
    """Runs in a child process, the worker: warm up, then `publishing.prepare` of the pending issue,
    then read the stored file back as /verify/ and the API do."""
    from unittest import mock

    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.conf import settings

    from statements import notifications, pdf
    from statements.services import publishing
    from statements.models import Publication

    if case == "printed":
        settings.PDF_MAX_PRINTED_INDIVIDUALS = count
    pdf.sign_pdf(pdf.render_pdf(document(3)))  # warm-up: fonts, key, templates
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    phases = {}

    def timed(name, function):
        def run(*args, **kwargs):
            cpu_started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                phases[name] = round(time.process_time() - cpu_started, 3)
        return run

    started, cpu_started = time.perf_counter(), time.process_time()
    with mock.patch.object(notifications, "publication_released"), \
            mock.patch.object(pdf, "render_pdf", timed("render_cpu_seconds", pdf.render_pdf)), \
            mock.patch.object(pdf, "sign_pdf", timed("sign_cpu_seconds", pdf.sign_pdf)):
        publication = publishing.prepare(publication_id)
    cpu_seconds, seconds = time.process_time() - cpu_started, time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert publication.state == Publication.State.READY, publication.failure
    data = publication.pdf.read()

    verify_started = time.perf_counter()
    verification = pdf.verify_pdf(data)
    verify_seconds = time.perf_counter() - verify_started
    embedded_started = time.perf_counter()
    carried = pdf.embedded_signatories(data)
    embedded_seconds = time.perf_counter() - embedded_started
    return {
        "case": case,
        "individuals": count,
        "printed": count <= settings.PDF_MAX_PRINTED_INDIVIDUALS,
        "cpu_seconds": round(cpu_seconds, 3),
        "wall_seconds": round(seconds, 3),
        **phases,
        "cpu_ms_per_signatory": round(1000 * cpu_seconds / count, 3),
        "peak_rss_mb": round(peak / 1024, 1),
        "rss_before_mb": round(before / 1024, 1),
        "pages": len(PdfReader(BytesIO(data)).pages),
        "bytes": len(data),
        "verify_seconds": round(verify_seconds, 3),
        "authentic": verification.authentic,
        "embedded_seconds": round(embedded_seconds, 3),
        "embedded_individuals": len(carried["individuals"]) if carried else None,
    }


def measure_individuals(count: int) -> list[dict]:
    """Build the database once, then run each case in a fresh worker on a copy of it."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bench-pdf-") as temporary:
        built = Path(temporary) / "built"
        built.mkdir()
        process = subprocess.run([sys.executable, __file__, "--build", str(count), str(built)], cwd=ROOT,
                                 capture_output=True, text=True, env=individuals_environment(built))
        if process.returncode:
            sys.exit(process.stderr)
        publication_id = json.loads(process.stdout.strip().splitlines()[-1])["publication"]
        results = []
        for case in INDIVIDUAL_CASES:
            folder = Path(temporary) / case
            shutil.copytree(built, folder)
            process = subprocess.run(
                [sys.executable, __file__, "--prepare", case, str(count), str(publication_id)], cwd=ROOT,
                capture_output=True, text=True, env=individuals_environment(folder))
            if process.returncode:
                sys.exit(process.stderr)
            results.append(json.loads(process.stdout.strip().splitlines()[-1]))
            shutil.rmtree(folder)
        return results


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
    parser.add_argument("--sizes", help="100,1000,5000 (organisations), or 1000,10000,50000 with --individuals")
    parser.add_argument("--repeat", type=int, default=5, help="runs per case below 5,000 signatories (the best is kept)")
    parser.add_argument("--timestamps", action="store_true", help="sign as PAdES B-LTA, with a local timestamp server")
    parser.add_argument("--individuals", action="store_true",
                        help="publish (publishing.prepare) statements signed by this many individuals")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--build", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--prepare", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_case(args.child[0], int(args.child[1]), args.timestamps)))
        return
    if args.build:
        print(json.dumps(build_individuals(Path(args.build[1]), int(args.build[0]))))
        return
    if args.prepare:
        print(json.dumps(prepare_individuals(args.prepare[0], int(args.prepare[1]), int(args.prepare[2]))))
        return
    if args.individuals:
        sizes = [int(size) for size in (args.sizes or "1000,10000,50000").split(",")]
        results = []
        for count in sizes:
            for result in measure_individuals(count):
                results.append(result)
                print(json.dumps(result), flush=True)
        for case in INDIVIDUAL_CASES:
            runs = [r for r in results if r["case"] == case]
            print(json.dumps({
                "summary": case,
                "cpu_ms_per_signatory_largest_over_smallest": round(
                    runs[-1]["cpu_ms_per_signatory"] / runs[0]["cpu_ms_per_signatory"], 2),
                "largest": runs[-1]["individuals"], "smallest": runs[0]["individuals"],
                "largest_wall_seconds": runs[-1]["wall_seconds"], "largest_peak_rss_mb": runs[-1]["peak_rss_mb"],
            }), flush=True)
        return
    for count in [int(size) for size in (args.sizes or "100,1000,5000").split(",")]:
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
