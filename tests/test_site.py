import subprocess
import sys

import pytest
from django.urls import reverse

from . import factories

pytestmark = pytest.mark.django_db


def test_healthz_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_front_page_lists_coalitions_and_has_a_skip_link(client, coalition):
    page = client.get("/").content.decode()
    assert coalition.name in page
    assert 'href="#main"' in page and 'id="main"' in page


def test_organisation_page_shows_name_description_website_and_coalitions(client, coalition):
    organisation = factories.OrganisationFactory(description="Documents crimes.", website="https://example.org/")
    factories.MembershipFactory(coalition=coalition, organisation=organisation)
    page = client.get(reverse("organisation_detail", args=[organisation.slug])).content.decode()
    assert organisation.name in page and "Documents crimes." in page
    assert "https://example.org/" in page and coalition.name in page


def test_unknown_organisation_is_a_404(client, db):
    assert client.get("/organisations/no-such-organisation/").status_code == 404


def test_switching_to_ukrainian_and_back(client, coalition):
    client.post(reverse("set_language"), {"language": "uk", "next": "/"})
    page = client.get("/").content.decode()
    assert 'lang="uk"' in page and "Коаліції" in page
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get("/").content.decode()
    assert 'lang="en"' in page and "Coalitions" in page


def test_language_choice_is_remembered_for_a_signed_in_person(client, signer):
    client.force_login(signer)
    client.post(reverse("set_language"), {"language": "uk", "next": "/"})
    signer.refresh_from_db()
    assert signer.language == "uk"


def run_settings(env_overrides: dict) -> subprocess.CompletedProcess:
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "CELERY_BROKER_URL", "REDIS_URL")}
    env.update(env_overrides)
    code = "import django; django.setup(); from django.conf import settings; print(settings.CACHES['default']['BACKEND'], settings.CELERY_TASK_ALWAYS_EAGER)"
    return subprocess.run([sys.executable, "-c", code], env={**env, "DJANGO_SETTINGS_MODULE": "coalition.settings"},
                          capture_output=True, text=True, timeout=60)


def test_production_refuses_to_start_without_a_secret_key():
    result = run_settings({"DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.slow
def test_defaults_use_local_memory_cache_and_in_process_tasks():
    result = run_settings({})
    assert result.stdout.split() == ["django.core.cache.backends.locmem.LocMemCache", "True"]


@pytest.mark.slow
def test_a_redis_broker_makes_redis_the_cache_and_tasks_go_to_workers():
    result = run_settings({"CELERY_BROKER_URL": "redis://127.0.0.1:6379/0"})
    assert result.stdout.split() == ["coalition.redis_cache.RedisCache", "False"]


def test_signed_in_person_sees_their_saved_language_until_they_pick_another(client, signer):
    signer.language = "uk"
    signer.save()
    client.force_login(signer)
    assert 'lang="uk"' in client.get("/").content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert 'lang="en"' in client.get("/").content.decode()
