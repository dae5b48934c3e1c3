"""Coordinators set the order signatory organisations are listed in: on the statement's page,
on the roster and in the published issue; alphabetical until they do."""

import pytest
from django.urls import reverse

from coalition import audit
from statements import services
from statements.services import cosigning, publishing
from statements.models import Publication, Statement

from .factories import MembershipFactory, OrganisationRoleFactory, make_statement

pytestmark = pytest.mark.django_db


@pytest.fixture
def statement(coalition, coordinator):
    return make_statement(coalition, by=coordinator, status="open", title="Stop the deportations")


@pytest.fixture
def signed(coalition, statement):
    """Three organisations that signed, named so that alphabetical order is A, B, C (an opening
    quote does not count)."""
    organisations = []
    for name in ("Center for Civil Liberties", "‘Almenda’", "Blue Bird"):
        organisation = MembershipFactory(coalition=coalition, organisation__name=name).organisation
        user = OrganisationRoleFactory(organisation=organisation, can_sign=True).user
        cosigning.sign_for_organisation(statement, by=user, organisation=organisation,
                                        sha256=statement.signed_revision.sha256)
        organisations.append(organisation)
    return {o.name: o for o in organisations}


def order_url(statement):
    return reverse("statement_signatory_order", args=[statement.slug])


def listed(page: str, names) -> list[str]:
    """The names in the order they first appear on the page."""
    return sorted(names, key=page.index)


def test_signatories_are_alphabetical_until_coordinators_set_an_order(client, statement, signed, coordinator):
    client.force_login(coordinator)
    page = client.get(statement.get_absolute_url()).content.decode()
    assert listed(page, signed) == ["‘Almenda’", "Blue Bird", "Center for Civil Liberties"]


def test_a_coordinator_sets_the_order_and_the_page_and_the_issue_follow_it(client, statement, signed, coordinator,
                                                                           django_capture_on_commit_callbacks):
    client.force_login(coordinator)
    roster = client.get(reverse("statement_roster", args=[statement.slug])).content.decode()
    assert "Order on the statement" in roster and "Place of ‘Almenda’" in roster
    ccl, almenda, bird = signed["Center for Civil Liberties"], signed["‘Almenda’"], signed["Blue Bird"]
    response = client.post(order_url(statement), {f"place-{ccl.pk}": 1, f"place-{bird.pk}": 2,
                                                  f"place-{almenda.pk}": 3}, follow=True)
    assert "The order of signatory organisations is saved." in response.content.decode()
    statement.refresh_from_db()
    assert statement.signatory_order == [ccl.pk, bird.pk, almenda.pk]
    assert audit.events_for(statement).get(action="statement.signatories_ordered").data["order"] == [
        "Center for Civil Liberties", "Blue Bird", "‘Almenda’"]

    page = client.get(statement.get_absolute_url()).content.decode()
    assert listed(page, signed) == ["Center for Civil Liberties", "Blue Bird", "‘Almenda’"]

    # An organisation that signs later goes after the ordered ones.
    late = MembershipFactory(coalition=statement.coalition, organisation__name="Aaa Late").organisation
    user = OrganisationRoleFactory(organisation=late, can_sign=True).user
    cosigning.sign_for_organisation(statement, by=user, organisation=late, sha256=statement.signed_revision.sha256)
    services.close_signing(statement, by=coordinator)
    with django_capture_on_commit_callbacks(execute=False):
        services.publish(Statement.objects.get(pk=statement.pk), by=coordinator)
    assert publishing.organisation_names(Publication.objects.get().signatories) == [
        "Center for Civil Liberties", "Blue Bird", "‘Almenda’", "Aaa Late"]


def test_alphabetical_clears_the_order(client, statement, signed, coordinator):
    statement.signatory_order = [signed["Blue Bird"].pk]
    statement.save()
    client.force_login(coordinator)
    client.post(order_url(statement), {"alphabetical": "1"})
    statement.refresh_from_db()
    assert statement.signatory_order == []


def test_two_organisations_in_one_place_are_refused_with_the_places_kept(client, statement, signed, coordinator):
    client.force_login(coordinator)
    ccl, almenda, bird = signed["Center for Civil Liberties"], signed["‘Almenda’"], signed["Blue Bird"]
    response = client.post(order_url(statement), {f"place-{ccl.pk}": 2, f"place-{bird.pk}": 2,
                                                  f"place-{almenda.pk}": 1})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Two organisations have the same place" in page
    assert f'name="place-{ccl.pk}"' in page and 'value="2"' in page
    statement.refresh_from_db()
    assert statement.signatory_order == []


@pytest.mark.parametrize("value", ["", "0", "9", "first"])
def test_a_missing_or_impossible_place_is_refused(client, statement, signed, coordinator, value):
    client.force_login(coordinator)
    ccl, almenda, bird = signed["Center for Civil Liberties"], signed["‘Almenda’"], signed["Blue Bird"]
    response = client.post(order_url(statement), {f"place-{ccl.pk}": value, f"place-{bird.pk}": 2,
                                                  f"place-{almenda.pk}": 3})
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()
    statement.refresh_from_db()
    assert statement.signatory_order == []


def test_only_coordinators_of_the_coalition_set_the_order(client, statement, signed, signer):
    client.force_login(signer)
    ccl = signed["Center for Civil Liberties"]
    response = client.post(order_url(statement), {f"place-{ccl.pk}": 1})
    assert response.status_code == 403
    statement.refresh_from_db()
    assert statement.signatory_order == []


def test_the_order_cannot_change_once_published(client, statement, signed, coordinator,
                                                django_capture_on_commit_callbacks):
    services.close_signing(statement, by=coordinator)
    with django_capture_on_commit_callbacks(execute=False):
        services.publish(Statement.objects.get(pk=statement.pk), by=coordinator)
    client.force_login(coordinator)
    ccl, almenda, bird = signed["Center for Civil Liberties"], signed["‘Almenda’"], signed["Blue Bird"]
    response = client.post(order_url(statement), {f"place-{ccl.pk}": 1, f"place-{bird.pk}": 2,
                                                  f"place-{almenda.pk}": 3}, follow=True)
    assert "There is no order to set" in response.content.decode()
    statement.refresh_from_db()
    assert statement.signatory_order == []
    assert "Order on the statement" not in client.get(reverse("statement_roster", args=[statement.slug])).content.decode()


def test_the_order_form_needs_a_post(client, statement, signed, coordinator):
    client.force_login(coordinator)
    assert client.get(order_url(statement)).status_code == 405
