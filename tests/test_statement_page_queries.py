"""The statement page asks the database the same number of questions at 1 and at 1,000 signatories,
and its size does not grow with the individuals; a page of their list costs the same at any length."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coalition.models import Organisation
from statements import services
from statements.models import Signature
from statements.services import Draft

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
    # Organisations in full; individuals as a count and the newest names, all of them on their list.
    assert "Thousand organisation 499" in page and "500 individuals" in page
    assert "Person 499" in page and "Person 0<" not in page
    listed = client.get(reverse("statement_signatories", args=[thousand.slug])).content.decode()
    assert "Person 0<" in listed


def open_with_individuals(coalition, coordinator, count: int, title: str, *, earlier: int = 0):
    """Open to individuals, with two organisations, `count` individuals on the text to be signed
    (names of one length: "Person 00042") and `earlier` on a text changed since."""
    statement = make_statement(coalition, by=coordinator, status="open", title=title, allows_individuals=True)
    first = statement.signed_revision
    organisations = Organisation.objects.bulk_create(
        Organisation(name=f"Organisation {statement.pk}-{n}", slug=f"{statement.slug}-org-{n}") for n in range(2))
    Signature.objects.bulk_create(
        Signature(statement=statement, revision=first, sha256=first.sha256, kind=Signature.Kind.INDIVIDUAL,
                  name=f"Earlier {n:05d}", email=f"{statement.slug}-earlier-{n}@example.org",
                  confirmed_at=statement.opened_at) for n in range(earlier))
    if earlier:
        services.save_revision(statement, by=coordinator, based_on=first, draft=Draft(title, "", "Changed."))
        statement.refresh_from_db()
    revision = statement.signed_revision
    Signature.objects.bulk_create(
        [Signature(statement=statement, revision=revision, sha256=revision.sha256, kind=Signature.Kind.ORGANISATION,
                   organisation=organisation, signed_by=coordinator) for organisation in organisations]
        + [Signature(statement=statement, revision=revision, sha256=revision.sha256, kind=Signature.Kind.INDIVIDUAL,
                     name=f"Person {n:05d}", affiliation="Lawyer", email=f"{statement.slug}-{n}@example.org",
                     confirmed_at=statement.opened_at + timedelta(seconds=n)) for n in range(count)])
    return statement


def test_statement_page_size_and_queries_stay_the_same_at_2000_individuals_as_at_25(client, coalition, coordinator):
    few = open_with_individuals(coalition, coordinator, 25, "Small petition")
    many = open_with_individuals(coalition, coordinator, 2000, "Large petition")
    sizes = {}
    for statement in (few, many):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(statement.get_absolute_url())
        assert response.status_code == 200
        sizes[statement] = (len(response.content), len(queries))
    (few_bytes, few_queries), (many_bytes, many_queries) = sizes[few], sizes[many]
    assert many_queries == few_queries
    # Only the count differs: "2,000" against "25", twice.
    assert abs(many_bytes - few_bytes) <= 6, (few_bytes, many_bytes)
    page = client.get(many.get_absolute_url()).content.decode()
    assert "2,000 individuals" in page and "Person 01999" in page and "Person 01979" not in page


@pytest.mark.slow
@pytest.mark.parametrize("url_name", ["statement_signatories", "api_statement_signatories"])
def test_a_page_of_the_signatories_list_costs_the_same_at_any_length(client, coalition, coordinator, url_name):
    short = open_with_individuals(coalition, coordinator, 150, "Short list")
    long = open_with_individuals(coalition, coordinator, 3000, "Long list")
    for statement in (short, long):
        services.close_signing(statement, by=coordinator)
        services.publish(statement, by=coordinator)
    assert queries_for(client, reverse(url_name, args=[short.slug]) + "?page=2") == \
        queries_for(client, reverse(url_name, args=[long.slug]) + "?page=5")


def test_member_staff_see_earlier_signatures_in_a_fixed_number_of_queries(client, coalition, coordinator, staff):
    few = open_with_individuals(coalition, coordinator, 5, "Few earlier", earlier=3)
    many = open_with_individuals(coalition, coordinator, 5, "Many earlier", earlier=300)
    client.force_login(staff)
    assert queries_for(client, few.get_absolute_url()) == queries_for(client, many.get_absolute_url())
    page = client.get(many.get_absolute_url()).content.decode()
    assert "Earlier 00099" in page and "Earlier 00100" not in page and "and 200 more individuals" in page


def test_api_detail_query_count_does_not_grow_with_signatories(client, coalition, coordinator):
    one = published_with_signatories(coalition, coordinator, 1, "One")
    thousand = published_with_signatories(coalition, coordinator, 1000, "Thousand")
    assert queries_for(client, f"/api/statements/{one.slug}/") == queries_for(client, f"/api/statements/{thousand.slug}/")



def test_on_postgresql_the_count_and_the_newest_names_read_the_partial_index(postgres_database, coalition, coordinator):
    from statements import selectors

    statement = open_with_individuals(coalition, coordinator, 50, "Indexed")
    on_text = selectors.individuals_on_signed_text(statement)
    for queryset in (on_text.order_by("-confirmed_at", "-id")[:20], on_text.values("statement").annotate(n=Count("id"))):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            sql, params = queryset.query.sql_with_params()
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "signature_confirmed_people" in plan, plan


def test_the_signed_in_page_asks_once_whether_its_visitor_coordinates_the_coalition(client, coalition, coordinator):
    statement = make_statement(coalition, by=coordinator, status="open", title="Asked once")
    client.force_login(coordinator)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(statement.get_absolute_url()).content.decode()
    assert "Asked once" in page and reverse("statement_review", args=[statement.slug, "close"]) in page
    # Once for the whole request: the coalitions they coordinate, read by the two-factor check,
    # answer the menu and every button of the page.
    role_questions = [q["sql"] for q in queries if '"coalition_coalitionrole"."role" = ' in q["sql"]]
    assert len(role_questions) == 1, role_questions


def test_the_signed_in_page_reads_no_session_and_each_person_once(client, coalition, coordinator, staff):
    """Member staff see the drafting footer ("Revision 1 by ..."): its author comes with the
    statement; the session comes from the cache; the menu's coalitions are the two-factor check's."""
    statement = make_statement(coalition, by=coordinator, status="open", title="Few questions")
    client.force_login(staff)
    assert client.get(statement.get_absolute_url()).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        page = client.get(statement.get_absolute_url()).content.decode()
    assert "Few questions" in page and f"by {coordinator}" in page
    sql = [q["sql"] for q in queries]
    assert not [q for q in sql if "django_session" in q]
    assert len([q for q in sql if q.startswith('SELECT "coalition_user"')]) == 1, sql  # the visitor only
    assert len([q for q in sql if '"coalition_coalitionrole"."role" = ' in q and "coalition_id\" = " not in q]) <= 1
    assert len(sql) <= 7, "\n".join(sql)  # translations and issues: stored (caching.statement_value)


def test_coordinating_another_coalition_gives_no_coordinators_actions_here(client, coalition, coordinator, staff):
    from .factories import CoordinatorFactory

    CoordinatorFactory(user=staff)  # of a coalition of its own
    statement = make_statement(coalition, by=coordinator, status="open", title="Not theirs to close")
    client.force_login(staff)
    page = client.get(statement.get_absolute_url()).content.decode()
    assert "Not theirs to close" in page and reverse("statement_review", args=[statement.slug, "close"]) not in page
    client.force_login(coordinator)
    assert reverse("statement_review", args=[statement.slug, "close"]) in client.get(statement.get_absolute_url()).content.decode()


@pytest.mark.parametrize("role", ["signer", "staff", "left", "partner", "outsider", "coordinator"])
def test_the_page_asks_in_one_query_whether_its_visitor_is_member_staff_and_may_sign(
        client, coalition, coordinator, member_org, role):
    """The statement page's two questions about the visitor's staff roles, drafting (member staff)
    and the sign form (authority for an organisation that may sign), are one query, and answer
    as `is_member_staff` and `signable_organisations` each answer them on their own."""
    from coalition import permissions
    from coalition.models import Membership
    from statements.models import InvitedPartner

    from .factories import OrganisationFactory, OrganisationRoleFactory, UserFactory

    statement = make_statement(coalition, by=coordinator, status="open", title="Two in one", allows_individuals=True)
    if role == "coordinator":
        visitor = coordinator
    elif role == "outsider":
        visitor = UserFactory()
    elif role == "partner":
        partner = OrganisationFactory()
        InvitedPartner.objects.create(statement=statement, organisation=partner, invited_by=coordinator)
        visitor = OrganisationRoleFactory(organisation=partner, coalition=coalition, can_sign=True).user
    else:
        visitor = OrganisationRoleFactory(organisation=member_org, coalition=coalition, can_sign=role != "staff").user
        if role == "left":
            Membership.objects.filter(organisation=member_org, coalition=coalition).update(left=statement.opened_at)
    client.force_login(visitor)
    client.get(statement.get_absolute_url())
    with CaptureQueriesContext(connection) as queries:
        response = client.get(statement.get_absolute_url())
    assert response.status_code == 200
    role_queries = [q["sql"] for q in queries if 'FROM "coalition_organisationrole"' in q["sql"]
                    or 'JOIN "coalition_organisationrole"' in q["sql"]]
    assert len(role_queries) == 1, role_queries
    expected_staff = permissions.is_member_staff(visitor, coalition)
    expected_signing = permissions.signable_organisations(visitor, statement).exists()
    assert (response.context["drafting"], response.context["may_sign"]) == (expected_staff, expected_signing)
    assert (expected_staff, expected_signing) == {
        "signer": (True, True), "staff": (True, False), "left": (False, False), "partner": (False, True),
        "outsider": (False, False), "coordinator": (True, False)}[role]
