"""A signed-in statement page takes the statement's translations and issues from the cache
(`caching.statement_value`): asked of the database once, renewed when a translation, a new text,
a publication or its PDF changes, and kept apart for member staff and everyone else."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from unittest import mock

from statements import pdf, services
from statements.models import Publication
from statements.services import Draft

from .factories import make_statement

pytestmark = pytest.mark.django_db


def page(client, statement) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(statement.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode(), [q["sql"] for q in queries]


def translate(statement, by, title="Заява"):
    statement.refresh_from_db()
    services.add_translation(statement, by=by, language="uk", based_on=None, translation_of=statement.current_revision,
                             draft=Draft(title, "", "Текст."))


def test_the_second_signed_in_visit_asks_nothing_about_translations_or_issues(client, coalition, coordinator, staff):
    statement = make_statement(coalition, by=coordinator, status="open", title="Stored values")
    client.force_login(staff)
    _, first = page(client, statement)
    assert [q for q in first if "statements_publication" in q]
    _, second = page(client, statement)
    assert not [q for q in second if " FROM \"statements_publication\"" in q or " FROM \"statements_revision\"" in q]
    assert len(second) < len(first)


def test_a_new_translation_shows_at_once_on_the_signed_in_page(client, coalition, coordinator, staff):
    statement = make_statement(coalition, by=coordinator, status="draft", title="Soon translated")
    client.force_login(staff)
    assert 'href="?lang=uk"' not in page(client, statement)[0]
    translate(statement, coordinator)
    assert 'href="?lang=uk" hreflang="uk"' in page(client, statement)[0]


def test_member_staff_and_other_readers_get_their_own_list_of_versions(client, coalition, coordinator, staff):
    statement = make_statement(coalition, by=coordinator, status="draft", title="Changed since")
    translate(statement, coordinator)
    statement.refresh_from_db()
    services.save_revision(statement, by=coordinator, based_on=statement.current_revision,
                           draft=Draft("Changed since", "", "A new text."))
    statement.allows_individuals = True  # so that anyone may read it while it is open
    statement.save(update_fields=["allows_individuals"])
    services.open_for_signature(statement, by=coordinator, deadline=None)
    client.force_login(staff)
    assert "out of date" in page(client, statement)[0]  # staff see the stale translation, marked
    client.logout()
    assert 'href="?lang=uk"' not in page(client, statement)[0]  # the public only translations of the text
    client.force_login(staff)
    assert "out of date" in page(client, statement)[0]


def test_publishing_and_its_pdf_show_at_once_on_the_signed_in_page(client, coalition, coordinator, staff,
                                                                  django_capture_on_commit_callbacks):
    statement = make_statement(coalition, by=coordinator, status="open", title="Soon published")
    client.force_login(staff)
    assert "Issue 1" not in page(client, statement)[0]
    services.close_signing(statement, by=coordinator)
    with mock.patch.object(pdf, "sign_pdf", side_effect=RuntimeError("no key here")):
        with django_capture_on_commit_callbacks(execute=True):
            services.publish(statement, by=coordinator)
    assert Publication.objects.get(statement=statement).state == Publication.State.FAILED
    shown = page(client, statement)[0]
    assert "Issue 1" in shown and "could not be made" in shown
    publication = Publication.objects.get(statement=statement)
    publication.state = Publication.State.PENDING
    publication.save(update_fields=["state"])
    assert "Reload this page in a minute" in page(client, statement)[0]


def test_a_pdf_being_made_is_asked_again_so_its_readiness_shows_without_the_workers_signal(
        client, coalition, coordinator, staff, django_capture_on_commit_callbacks):
    """The worker that finishes a PDF moves the statement's versions, but in another process (and
    a cache prefix of its own in tests): a signed-in page must not keep "being prepared" stored."""
    statement = make_statement(coalition, by=coordinator, status="open", title="Made elsewhere")
    services.close_signing(statement, by=coordinator)
    with mock.patch.object(pdf, "sign_pdf", side_effect=RuntimeError("no key here")):
        with django_capture_on_commit_callbacks(execute=True):
            services.publish(statement, by=coordinator)
    publication = Publication.objects.get(statement=statement)
    publication.state = Publication.State.PENDING
    publication.save(update_fields=["state"])
    client.force_login(staff)
    assert "Reload this page in a minute" in page(client, statement)[0]
    # Another process finishes it; this process's cache never hears of it (no signal here).
    Publication.objects.filter(pk=publication.pk).update(state=Publication.State.FAILED)
    assert "could not be made" in page(client, statement)[0]


# The statement's row and its comments, stored for signed-in pages ------------------------------

def test_the_second_signed_in_visit_asks_nothing_about_the_statement_or_its_comments(client, coalition, coordinator,
                                                                                     staff):
    statement = make_statement(coalition, by=coordinator, status="draft", title="Stored row")
    services.add_comment(statement, by=staff, body="A first remark.")
    client.force_login(staff)
    _, first = page(client, statement)
    assert [q for q in first if 'FROM "statements_statement"' in q]
    assert [q for q in first if 'FROM "statements_comment"' in q]
    page(client, statement)  # the first visit learnt the address, this one stores the row
    html, second = page(client, statement)
    assert "A first remark." in html
    assert not [q for q in second if 'FROM "statements_statement"' in q or 'FROM "statements_comment"' in q]


def test_a_new_comment_its_resolution_and_its_deletion_show_at_once(client, coalition, coordinator, staff):
    statement = make_statement(coalition, by=coordinator, status="draft", title="Commented on")
    client.force_login(staff)
    assert "No comments yet." in page(client, statement)[0]
    comment = services.add_comment(statement, by=staff, body="Please cite the report.")
    html = page(client, statement)[0]
    assert "Please cite the report." in html and 'class="comment resolved"' not in html
    services.resolve_comment(comment, by=coordinator)
    assert f'class="comment resolved" id="comment-{comment.pk}"' in page(client, statement)[0]
    comment.delete()  # only the admin deletes comments
    assert "Please cite the report." not in page(client, statement)[0]


def test_a_renamed_author_shows_at_once(client, coalition, coordinator, staff):
    statement = make_statement(coalition, by=staff, coordinator=coordinator, status="draft", title="Written by staff")
    services.add_comment(statement, by=staff, body="Noted.")
    client.force_login(coordinator)
    staff.name = "Olena Before"
    staff.save(update_fields=["name"])
    assert "Revision 1 by Olena Before" in page(client, statement)[0]
    staff.name = "Olena After"
    staff.save()
    html = page(client, statement)[0]
    assert "Revision 1 by Olena After" in html and "Olena Before" not in html
    staff.save(update_fields=["last_login"])  # signing in renews nothing
    assert "Olena After" in page(client, statement)[0]


def test_opening_for_signature_shows_at_once_on_the_stored_row(client, coalition, coordinator, staff):
    statement = make_statement(coalition, by=coordinator, status="draft", title="Soon open")
    client.force_login(staff)
    assert "Sign this statement" not in page(client, statement)[0]
    services.open_for_signature(statement, by=coordinator, deadline=None)
    assert "Sign this statement" in page(client, statement)[0]


def test_an_address_remembered_for_another_statement_is_not_trusted(client, coalition, coordinator, staff):
    from statements import caching

    shown = make_statement(coalition, by=coordinator, status="draft", title="The right one")
    other = make_statement(coalition, by=coordinator, status="draft", title="Another one")
    client.force_login(staff)
    page(client, other)  # stores the other's row
    caching.remember_address(shown.slug, other.pk)
    html = page(client, shown)[0]
    assert "<h1>The right one</h1>" in html and "Another one" not in html
    assert caching.statement_at_address(shown.slug) == shown.pk
