"""Production settings (DEBUG=0): Django's deployment checks pass, and real responses carry the
security headers, secure cookies and the Content-Security-Policy."""

import importlib.util
from pathlib import Path

import pytest
from django.urls import reverse

from . import factories
from .helpers import PRODUCTION_ENV, manage

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[1]
SECURITY_SETTINGS = [
    "DEBUG", "MIDDLEWARE", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER",
    "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
    "SECURE_CONTENT_TYPE_NOSNIFF", "SECURE_REFERRER_POLICY", "X_FRAME_OPTIONS",
    "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_SECURE", "CONTENT_SECURITY_POLICY",
]
POLICY = {
    "default-src": "'self'", "script-src": "'self'", "style-src": "'self'", "img-src": "'self' data:",
    "font-src": "'self'", "object-src": "'none'", "base-uri": "'self'", "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def directives(header: str) -> dict:
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


@pytest.mark.slow
def test_the_deployment_checks_pass_without_a_warning_in_production():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output and "WARNING" not in output


@pytest.mark.slow
def test_an_operator_who_turns_hsts_preloading_off_is_warned():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env={**PRODUCTION_ENV, "SECURE_HSTS_PRELOAD": "0"})
    assert result.returncode != 0
    assert "security.W021" in result.stdout + result.stderr


@pytest.mark.slow
def test_the_deployment_checks_fail_on_a_weak_configuration():
    """The check that guards production is a real one: a short secret key fails it."""
    result = manage("check", "--deploy", "--fail-level", "WARNING", env={**PRODUCTION_ENV, "SECRET_KEY": "short"})
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", env={key: value for key, value in PRODUCTION_ENV.items() if key != "SECRET_KEY"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_production_refuses_to_start_without_a_key_for_two_factor_secrets():
    result = manage("check", env={**PRODUCTION_ENV, "MFA_ENCRYPTION_KEYS": ""})
    assert result.returncode != 0
    assert "MFA_ENCRYPTION_KEYS must be set when DEBUG is off" in result.stderr


def test_a_malformed_key_for_two_factor_secrets_is_refused_with_its_position():
    result = manage("check", env={**PRODUCTION_ENV, "MFA_ENCRYPTION_KEYS": PRODUCTION_ENV["MFA_ENCRYPTION_KEYS"] + ",short"})
    assert result.returncode != 0
    assert "MFA_ENCRYPTION_KEYS: key 2 is not a Fernet key" in result.stderr


def test_production_refuses_to_start_without_a_key_for_the_audit_logs_address_hashes():
    result = manage("check", env={**PRODUCTION_ENV, "AUDIT_HASH_KEY": ""})
    assert result.returncode != 0
    assert "AUDIT_HASH_KEY must be set when DEBUG is off" in result.stderr


def production_settings(monkeypatch) -> dict:
    """coalition/settings.py read again as production reads it (DEBUG=0 and its environment)."""
    for name in ("SECURE_HSTS_PRELOAD", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in PRODUCTION_ENV.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("production_settings", ROOT / "coalition" / "settings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {name: getattr(module, name, None) for name in SECURITY_SETTINGS}


@pytest.fixture
def production(settings, monkeypatch):
    for name, value in production_settings(monkeypatch).items():
        setattr(settings, name, value)
    return settings


def assert_security_headers(response):
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert directives(response["Content-Security-Policy"]) == POLICY
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_plain_http_is_sent_to_https(client, production):
    response = client.get("/statements/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/statements/"


def test_a_public_page_carries_the_headers_fresh_and_from_the_cache(client, production, coalition,
                                                                    django_assert_num_queries):
    factories.make_statement(coalition, by=factories.CoordinatorFactory(coalition=coalition).user,
                             status="published", title="Stored with its headers")
    fresh = client.get("/statements/", HTTP_X_FORWARDED_PROTO="https")
    with django_assert_num_queries(0):  # the public page cache answers
        stored = client.get("/statements/", HTTP_X_FORWARDED_PROTO="https")
    assert fresh.status_code == stored.status_code == 200
    assert "Stored with its headers" in stored.content.decode()
    assert_security_headers(fresh)
    assert_security_headers(stored)


def test_signing_in_sets_only_secure_http_only_cookies(client, production, staff):
    page = client.get(reverse("account_login"), HTTP_X_FORWARDED_PROTO="https")
    assert page.status_code == 200
    assert_security_headers(page)
    csrf_cookie = page.cookies["csrftoken"]
    assert csrf_cookie["secure"] is True

    response = client.post(reverse("account_login"), {"login": staff.email, "password": factories.PASSWORD},
                           HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 302
    session_cookie = response.cookies["sessionid"]
    assert session_cookie["secure"] is True and session_cookie["httponly"] is True
    dashboard = client.get(reverse("dashboard"), HTTP_X_FORWARDED_PROTO="https")
    assert dashboard.status_code == 200
    assert_security_headers(dashboard)
