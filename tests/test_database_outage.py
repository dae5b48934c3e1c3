"""The database restarting or not answering: connections left over from before a restart are
replaced before a request uses them (no 5xx), and while it does not answer every page says so
with 503 and Retry-After, in the reader's language, never a 500."""

import socket
from unittest import mock

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import OperationalError, connection, connections
from django.template import TemplateDoesNotExist
from django.test import Client, RequestFactory
from django.urls import reverse

from . import factories

OUTAGE_TEXT = "The site cannot reach its database at the moment. Nothing you sent was saved."


def serve(handler: WSGIHandler, path: str) -> tuple[int, bytes]:
    """A request through Django's WSGI handler as gunicorn makes it: with the request_started
    and request_finished signals that check the database connections (the test client skips them)."""
    environ = RequestFactory().get(path).environ
    status = []
    body = b"".join(handler(environ, lambda line, headers, exc_info=None: status.append(line)))
    return int(status[0].split()[0]), body


@pytest.fixture
def database_down():
    """Every query fails as it does when the server is unreachable."""
    refused = OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")
    with mock.patch.object(connection, "ensure_connection", side_effect=refused):
        yield


@pytest.fixture
def published(coalition, coordinator):
    return factories.make_statement(coalition, by=coordinator, status="published", title="Stop the shelling")


def outage_client() -> Client:
    # A server answers whatever went wrong; the test client would re-raise it instead.
    return Client(raise_request_exception=False)


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["/", "/statements/", "/statements/{slug}/", "/verify/?statement={slug}",
                                  "/api/statements/", "/organisations/"])
def test_public_pages_answer_503_with_retry_after_while_the_database_is_down(published, settings, page):
    settings.DATABASE_RETRY_AFTER_SECONDS = 45
    address = page.format(slug=published.slug)
    refused = OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")
    with mock.patch.object(connection, "ensure_connection", side_effect=refused):
        response = outage_client().get(address)
    assert response.status_code == 503
    assert response["Retry-After"] == "45"
    assert OUTAGE_TEXT in response.content.decode()


@pytest.mark.django_db
def test_a_signed_in_request_whose_session_cannot_be_read_answers_503(coordinator):
    client = outage_client()
    client.force_login(coordinator)
    refused = OperationalError("server closed the connection unexpectedly")
    with mock.patch.object(connection, "ensure_connection", side_effect=refused):
        response = client.post(reverse("statement_create"), {"title": "A title"})
    assert response.status_code == 503 and response["Retry-After"]
    assert OUTAGE_TEXT in response.content.decode()


@pytest.mark.django_db
def test_the_outage_page_is_in_the_readers_language(database_down):
    response = outage_client().get(reverse("statement_list"), HTTP_ACCEPT_LANGUAGE="uk")
    assert response.status_code == 503
    page = response.content.decode()
    assert "Тимчасово недоступно" in page and "Сайт зараз не може з’єднатися зі своєю базою даних." in page


@pytest.mark.django_db
def test_the_outage_page_is_plain_text_when_its_template_fails(database_down):
    with mock.patch("coalition.faults.loader.render_to_string", side_effect=TemplateDoesNotExist("x")):
        response = outage_client().get(reverse("statement_list"))
    assert response.status_code == 503 and response["Content-Type"].startswith("text/plain")
    assert OUTAGE_TEXT in response.content.decode()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_with_postgresql_unreachable_pages_answer_503(postgres_database, published):
    handler = WSGIHandler()
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=_closed_port())
    try:
        status, body = serve(handler, reverse("statement_detail", args=[published.slug]))
        healthz, _body = serve(handler, reverse("healthz"))
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
    assert status == 503 and OUTAGE_TEXT in body.decode()
    assert healthz == 503
    assert serve(handler, reverse("statement_detail", args=[published.slug]))[0] == 200  # back at once


@pytest.mark.django_db(transaction=True)
def test_after_a_postgresql_restart_the_next_requests_get_no_5xx(postgres_database, published):
    handler = WSGIHandler()
    pages = [reverse("home"), reverse("statement_detail", args=[published.slug]), reverse("statement_list"),
             reverse("verify") + f"?statement={published.slug}", reverse("healthz")]
    assert [serve(handler, page)[0] for page in pages] == [200] * len(pages)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        before = cursor.fetchone()[0]

    # A restart, as each web process's kept connection sees it: the server ends it while idle.
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    finally:
        other.close()

    assert [serve(handler, page)[0] for page in pages] == [200] * len(pages)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != before
