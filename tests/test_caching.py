"""Anonymous visitors get stored copies of public pages, renewed whenever what they show changes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from statements import services

from .factories import make_statement

pytestmark = pytest.mark.django_db


def test_a_public_page_is_served_from_the_cache_the_second_time(client, coalition, coordinator,
                                                               django_assert_num_queries):
    make_statement(coalition, by=coordinator, status="published", title="Cached")
    first = client.get(reverse("statement_list"))
    assert "Cached" in first.content.decode()
    with django_assert_num_queries(0):
        again = client.get(reverse("statement_list"))
    assert again.content == first.content


def test_publishing_renews_the_archive_and_the_statement_page(client, coalition, coordinator,
                                                             django_capture_on_commit_callbacks):
    statement = make_statement(coalition, by=coordinator, status="closed", title="About to be published")
    assert "About to be published" not in client.get("/").content.decode()
    assert client.get(reverse("api_statements")).json()["count"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        services.publish(statement, by=coordinator)
    assert "About to be published" in client.get("/").content.decode()
    assert client.get(reverse("api_statements")).json()["count"] == 1
    page = client.get(statement.get_absolute_url()).content.decode()
    assert "Download the signed PDF" in page


def test_withdrawing_renews_the_statement_page_and_feed(client, coalition, coordinator,
                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        statement = make_statement(coalition, by=coordinator, status="published", title="To be withdrawn")
    assert "Withdrawn on" not in client.get(statement.get_absolute_url()).content.decode()
    client.get(reverse("statement_list"))
    with django_capture_on_commit_callbacks(execute=True):
        services.withdraw(statement, by=coordinator, reason="Facts changed.")
    page = client.get(statement.get_absolute_url()).content.decode()
    assert "Withdrawn on" in page and "Facts changed." in page
    assert client.get(reverse("api_statement", args=[statement.slug])).json()["status"] == "withdrawn"


def test_a_correction_renews_the_statement_page(client, coalition, coordinator, django_capture_on_commit_callbacks):
    from statements import publishing

    with django_capture_on_commit_callbacks(execute=True):
        statement = make_statement(coalition, by=coordinator, status="published", title="To be corrected")
    assert "issue 2" not in client.get(statement.get_absolute_url()).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        publishing.publish_correction(statement, by=coordinator, note="Typo fixed.")
    assert "issue 2" in client.get(statement.get_absolute_url()).content.decode()


def test_signed_in_people_never_get_the_anonymous_copy(client, coalition, coordinator):
    statement = make_statement(coalition, by=coordinator, status="published", title="Seen by both")
    client.get(statement.get_absolute_url())
    client.force_login(coordinator)
    page = client.get(statement.get_absolute_url()).content.decode()
    assert "csrfmiddlewaretoken" in page  # the coordinator's own page, with its forms


def test_each_language_has_its_own_copy(client, coalition, coordinator):
    make_statement(coalition, by=coordinator, status="published", title="Two languages")
    assert 'lang="en"' in client.get("/").content.decode()
    client.cookies["django_language"] = "uk"
    assert 'lang="uk"' in client.get("/").content.decode()


def test_a_stored_copy_keeps_the_headers_and_is_not_served_to_a_visitor_with_a_session(client, coalition,
                                                                                      coordinator):
    make_statement(coalition, by=coordinator, status="published", title="Headers kept")
    first = client.get("/")
    again = client.get("/")
    assert again["Content-Language"] == first["Content-Language"] == "en"
    assert again["X-Frame-Options"] == "DENY" and "public" in again["Cache-Control"]
    client.cookies["sessionid"] = "not-a-real-session"
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    assert len(queries) > 0  # rendered for this visitor, not the stored copy


def test_an_error_page_is_never_stored(client, db):
    assert client.get("/statements/no-such-statement/").status_code == 404
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/statements/no-such-statement/").status_code == 404
    assert len(queries) > 0  # answered by the view again, not from a stored copy


def test_pages_and_saves_work_when_the_cache_cannot_be_reached(client, settings, db):
    """Redis down: the public pages are served uncached and saving what they show still works."""
    from tests import factories

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0",
                                   "OPTIONS": {"socket_connect_timeout": 0.2}}}
    assert client.get("/").status_code == 200
    assert client.get("/statements/").status_code == 200
    factories.OrganisationFactory()  # a save that would renew the cached pages
