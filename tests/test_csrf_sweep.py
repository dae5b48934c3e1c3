"""Every URL of the site, classified: read-only pages, form pages (GET shows a form, POST changes
something) and actions (POST only).

- An action refuses GET with 405, so no link, image or prefetch can change anything.
- Every form page and action refuses a POST without a CSRF token with 403, even from a person who
  may do what it does (a coordinator who also signs for a member organisation); the same POST with
  the token gets past the check, so the 403 is the token's doing and nothing else's.
- A read-only page answers GET and refuses POST with 405.

A URL pattern added to the project without an entry in URLS (tests/helpers.py) fails
`test_every_url_of_the_project_is_classified`: say what it is there. allauth's and the admin's URLs
are covered by a few representative entries (sign-in, sign-out, password reset and change,
two-factor authentication, the admin's sign-in, sign-out and a change form).
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from .helpers import ACTION, ALL, FORM, PAGE, URLS, client_for, world  # noqa: F401 (world: a fixture)

pytestmark = pytest.mark.django_db

PROJECT_MODULES = ("coalition.", "statements.")


def project_url_names(resolver=None, namespace=None):
    """The name of every URL pattern whose view is the project's own, however deeply included."""
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(part for part in (namespace, pattern.namespace) if part) or None
            yield from project_url_names(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.callback.__module__.startswith(PROJECT_MODULES):
            name = pattern.name or f"<unnamed {pattern.pattern}>"
            yield f"{namespace}:{name}" if namespace else name


def test_every_url_of_the_project_is_classified():
    names = set(project_url_names())
    unclassified = sorted(names - set(URLS))
    assert not unclassified, (
        f"Classify these URLs in URLS in tests/helpers.py (read-only page, form page or action): {unclassified}")
    assert not sorted(set(URLS) - names), "URLS names URLs the project no longer has"


def is_csrf_refusal(response) -> bool:
    return response.status_code == 403 and b"CSRF verification failed" in response.content


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ALL))
def test_url_answers_as_its_kind(name, world):
    url = ALL[name]
    address = reverse(name, args=url.args(world))
    assert url.kind in (PAGE, FORM, ACTION)
    strict = client_for(world, url.user, enforce_csrf_checks=True)

    if url.kind == ACTION:
        assert strict.get(address).status_code == 405, f"{name} must refuse GET (@require_POST)"
    else:
        assert strict.get(address).status_code == url.get

    lenient = client_for(world, url.user, enforce_csrf_checks=False)
    if url.kind == PAGE:
        assert lenient.post(address).status_code == 405, f"{name} changes nothing and must refuse POST"
        return

    without_token = strict.post(address)
    if url.csrf_exempt:
        assert not is_csrf_refusal(without_token)
    else:
        assert is_csrf_refusal(without_token), f"{name} accepted a POST without a CSRF token"
    with_token = lenient.post(address)
    assert not is_csrf_refusal(with_token) and with_token.status_code not in (403, 405), (
        f"{name}: the person chosen for it should be allowed, got {with_token.status_code}")
