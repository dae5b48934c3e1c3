"""Concurrent sign submissions on PostgreSQL, through real parallel connections: one thread per
submission, each with its own Django test client and database connection, released together by a
barrier. Without PostgreSQL these skip, and under REQUIRE_SERVICES=1 they fail."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from coalition import audit
from statements.models import Signature

from .factories import make_statement

pytestmark = pytest.mark.django_db(transaction=True)

SUBMISSIONS = 50


def race(prepare, submit) -> list[int]:
    """Run SUBMISSIONS submissions at once; returns their status codes."""
    barrier = threading.Barrier(SUBMISSIONS)

    def one(i):
        try:
            client = prepare(i)
            barrier.wait(timeout=60)
            return submit(client, i).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=SUBMISSIONS) as pool:
        return list(pool.map(one, range(SUBMISSIONS)))


def test_fifty_concurrent_signatures_for_one_organisation_leave_exactly_one(
        postgres_database, coalition, coordinator, signer, member_org):
    statement = make_statement(coalition, by=coordinator, status="open")
    url = reverse("statement_sign", args=[statement.slug])
    data = {"organisation": member_org.slug, "sha256": statement.signed_revision.sha256}

    def prepare(i):
        client = Client()
        client.force_login(signer)
        return client

    codes = race(prepare, lambda client, i: client.post(url, data))
    assert codes == [302] * SUBMISSIONS  # one signed, the others were told it already had
    assert Signature.objects.filter(statement=statement, organisation=member_org).count() == 1
    assert audit.events_for(statement).filter(action="signature.signed").count() == 1
    assert audit.verify().intact


def test_fifty_concurrent_individual_signatures_with_one_address_leave_exactly_one(
        postgres_database, settings, coalition, coordinator):
    settings.SIGNING_RATE_LIMITS_ENABLED = False
    statement = make_statement(coalition, by=coordinator, status="open", allows_individuals=True)
    url = reverse("statement_sign", args=[statement.slug])

    def submit(client, i):
        email = "Same.Person@example.org" if i % 2 else "same.person@EXAMPLE.org"
        return client.post(url, {"name": f"Person {i}", "email": email, "affiliation": "", "website": ""})

    codes = race(lambda i: Client(), submit)
    assert codes == [302] * SUBMISSIONS
    assert Signature.objects.filter(statement=statement).count() == 1
