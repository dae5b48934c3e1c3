"""What several test modules share, so that none imports another test module (tests/factories.py
makes the objects; tests/tsa.py and tests/smtp.py are servers of their own)."""

import datetime
import importlib
import subprocess
from contextlib import contextmanager

from django.db import connection
from django.utils import timezone

from statements import pdf, services, text
from statements.services import cosigning
from statements.models import Signature

from . import factories

APPEND_ONLY = importlib.import_module("coalition.migrations.0004_audit_append_only")

MEMBERS = [
    "Truth Hounds",
    "Human Rights Center ZMINA",
    "Центр громадянських свобод",
    "Харківська правозахисна група",
    "Ukrainian Legal Advisory Group",
    "Східноукраїнський центр громадських ініціатив",
]


def make_document(**overrides) -> pdf.PdfDocument:
    """A statement's PDF as the publisher describes it, in Ukrainian, with six organisations and two
    individuals; any field may be overridden."""
    title = "Заява щодо виконання ордерів Міжнародного кримінального суду"
    body = "Ми закликаємо держави виконувати ордери суду.\n\nWe call on states to execute the warrants."
    values = dict(
        coalition_name="Коаліція «Україна. П'ята ранку»",
        title=title,
        language="uk",
        body_html=text.render_markdown(body),
        text_sha256=text.sha256_of(title, "", body),
        verification_url="https://statements.example.org/verify/?sha256=" + "0" * 64,
        short_url="statements.example.org/v/a1b2",
        date=datetime.date(2024, 9, 3),
        place="Київ",
        organisations=MEMBERS,
        individuals=[pdf.Signatory("Олена Коваленко", "Truth Hounds"), pdf.Signatory("Andriy Melnyk")],
    )
    values.update(overrides)
    return pdf.PdfDocument(**values)


def pdftotext(data: bytes) -> str:
    """A PDF's words (poppler's pdftotext), separated by single spaces."""
    return " ".join(subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True,
                                   check=True).stdout.decode().split())


def closed_statement(coalition, coordinator, signer, member_org, **extra):
    """A statement signed by member_org and by one confirmed individual, closed for signature."""
    statement = factories.make_statement(coalition, by=coordinator, status="open", title="Stop the deportations",
                                         allows_individuals=True, **extra)
    cosigning.sign_for_organisation(statement, by=signer, organisation=member_org,
                                    sha256=statement.signed_revision.sha256)
    Signature.objects.create(
        statement=statement, revision=statement.signed_revision, sha256=statement.signed_revision.sha256,
        kind=Signature.Kind.INDIVIDUAL, name="Oleksandra Matviichuk", affiliation="Kyiv",
        email="oleksandra@example.org", confirmed_at=timezone.now(),
    )
    services.close_signing(statement, by=coordinator)
    statement.refresh_from_db()
    return statement


def publish(statement, coordinator, capture, **kwargs):
    """Publish, running the on-commit work (the PDF task) at once; `capture` is pytest-django's
    django_capture_on_commit_callbacks. Returns issue 1."""
    with capture(execute=True):
        services.publish(statement, by=coordinator, **kwargs)
    statement.refresh_from_db()
    return statement.publications.get(number=1)


@contextmanager
def append_only_trigger_dropped():
    """What someone with the database's owner rights can do: drop the trigger that keeps the audit
    log append-only (PostgreSQL; SQLite has none), and put it back afterwards."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(APPEND_ONLY.DROP_SQL)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(APPEND_ONLY.APPEND_ONLY_SQL)
