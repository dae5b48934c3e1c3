"""The statement page asks the database the same number of questions at 1 and at 1,000 signatories."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coalition.models import Organisation
from statements import services
from statements.models import Signature

from .factories import make_statement

pytestmark = pytest.mark.django_db


def published_with_signatories(coalition, coordinator, count: int, title: str):
    statement = make_statement(coalition, by=coordinator, status="open", title=title, allows_individuals=True)
    revision = statement.signed_revision
    organisations = Organisation.objects.bulk_create(
        Organisation(name=f"{title} organisation {n}", slug=f"{statement.slug}-org-{n}") for n in range(count // 2 or 1))
    Signature.objects.bulk_create(
        [Signature(statement=statement, revision=revision, sha256=revision.sha256, kind=Signature.Kind.ORGANISATION,
                   organisation=organisation, signed_by=coordinator) for organisation in organisations]
        + [Signature(statement=statement, revision=revision, sha256=revision.sha256, kind=Signature.Kind.INDIVIDUAL,
                     name=f"Person {n}", affiliation="Lawyer", email=f"{statement.slug}-{n}@example.org",
                     confirmed_at=statement.opened_at) for n in range(count - len(organisations))])
    services.close_signing(statement, by=coordinator)
    services.publish(statement, by=coordinator)
    return statement


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "coordinator"])
def test_statement_page_query_count_does_not_grow_with_signatories(client, coalition, coordinator, signed_in):
    one = published_with_signatories(coalition, coordinator, 1, "One")
    thousand = published_with_signatories(coalition, coordinator, 1000, "Thousand")
    assert Signature.objects.filter(statement=thousand).count() == 1000
    if signed_in:
        client.force_login(coordinator)
    small, large = queries_for(client, one.get_absolute_url()), queries_for(client, thousand.get_absolute_url())
    assert small == large
    page = client.get(thousand.get_absolute_url()).content.decode()
    assert "Person 499" in page and "Thousand organisation 499" in page


def test_api_detail_query_count_does_not_grow_with_signatories(client, coalition, coordinator):
    one = published_with_signatories(coalition, coordinator, 1, "One")
    thousand = published_with_signatories(coalition, coordinator, 1000, "Thousand")
    assert queries_for(client, f"/api/statements/{one.slug}/") == queries_for(client, f"/api/statements/{thousand.slug}/")

