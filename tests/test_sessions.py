"""Sessions are read from the cache and kept in the database (coalition/sessions.py): signing in
costs a signed-in page no session query, and signing out, a deactivated account, a changed
password and a new role still take effect on the very next request."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coalition.models import CoalitionRole

from . import factories
from .factories import make_statement
from .helpers import DEAD_REDIS

pytestmark = pytest.mark.django_db


def signed_in(client) -> bool:
    return client.get(reverse("dashboard")).status_code == 200


def test_a_signed_in_page_reads_its_session_from_the_cache_not_the_database(client, staff, coalition, coordinator):
    statement = make_statement(coalition, by=coordinator, status="open", title="Read from the cache")
    client.force_login(staff)
    assert client.get(statement.get_absolute_url()).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert "Read from the cache" in client.get(statement.get_absolute_url()).content.decode()
    assert not [q for q in queries if "django_session" in q["sql"]]


def test_a_session_survives_the_cache_being_emptied(client, staff):
    client.force_login(staff)
    assert signed_in(client)
    cache.clear()
    assert signed_in(client)


def test_signing_out_takes_effect_at_once_for_a_cached_session(client, staff):
    client.force_login(staff)
    assert signed_in(client)  # cached now
    stolen = Client()
    stolen.cookies = client.cookies.__class__(client.cookies)
    client.post(reverse("account_logout"))
    assert not signed_in(client) and not signed_in(stolen)


def test_a_deactivated_account_is_signed_out_at_once(client, staff):
    client.force_login(staff)
    assert signed_in(client)
    staff.is_active = False
    staff.save(update_fields=["is_active"])
    assert not signed_in(client)


def test_a_password_changed_elsewhere_signs_this_browser_out(client, staff):
    client.force_login(staff)
    assert signed_in(client)
    staff.set_password("another-long-password-1")
    staff.save(update_fields=["password"])
    assert not signed_in(client)


def test_with_the_cache_unreachable_pages_still_know_who_is_signed_in(client, staff, settings):
    client.force_login(staff)
    settings.CACHES = DEAD_REDIS
    assert signed_in(client)


def test_with_the_cache_unreachable_signing_out_is_refused_rather_than_left_half_done(client, staff, settings):
    client.force_login(staff)
    session_key = client.session.session_key
    assert signed_in(client)  # the session is in the cache now
    live = settings.CACHES
    settings.CACHES = DEAD_REDIS
    response = client.post(reverse("account_logout"))
    assert response.status_code == 503 and "temporarily unavailable" in response.content.decode()
    settings.CACHES = live
    # Neither the database's row nor the cached copy was deleted: still signed in, and signing out works.
    assert Session.objects.filter(session_key=session_key).exists()
    assert client.session.session_key == session_key and client.session[SESSION_KEY] == str(staff.pk)
    assert signed_in(client)
    client.post(reverse("account_logout"))
    assert not signed_in(client)


def test_a_new_coordinator_is_sent_to_two_factor_enrolment_on_the_next_request(client, staff, coalition):
    client.force_login(staff)
    assert signed_in(client)
    CoalitionRole.objects.create(user=staff, coalition=coalition, role=CoalitionRole.Role.COORDINATOR)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302 and response.url == reverse("mfa_activate_totp")
    factories.enrol_totp(staff)
    page = client.get(reverse("dashboard"))
    assert page.status_code == 200 and coalition.display_name in page.content.decode()
