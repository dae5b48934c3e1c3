"""Every URL of the site, classified: read-only pages, form pages (GET shows a form, POST changes
something) and actions (POST only).

- An action refuses GET with 405, so no link, image or prefetch can change anything.
- Every form page and action refuses a POST without a CSRF token with 403, even from a person who
  may do what it does (a coordinator who also signs for a member organisation); the same POST with
  the token gets past the check, so the 403 is the token's doing and nothing else's.
- A read-only page answers GET and refuses POST with 405.

A URL pattern added to the project without an entry in URLS below fails
`test_every_url_of_the_project_is_classified`: say what it is here. allauth's and the admin's URLs
are covered by a few representative entries (sign-in, sign-out, password reset and change,
two-factor authentication, the admin's sign-in, sign-out and a change form).
"""

from dataclasses import dataclass, field
from typing import Callable

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from coalition import unsubscribe
from coalition.models import OrganisationRole, OutboundEmail
from statements import cosigning, services, subscriptions

from . import factories

pytestmark = pytest.mark.django_db

PAGE, FORM, ACTION = "read-only page", "form page", "action"
PROJECT_MODULES = ("coalition.", "statements.")


@dataclass
class Url:
    kind: str
    args: Callable[[dict], list] = lambda world: []
    user: str = "coordinator"  # who asks: "coordinator", "anonymous" or "operator" (the admin)
    get: int = 200  # what a GET answers, for pages and forms
    csrf_exempt: str = ""  # why a form may be posted without a token (then it must be)
    query: str = ""


def draft(world):
    return [world["draft"].slug]


def open_(world):
    return [world["open"].slug]


def published(world):
    return [world["published"].slug]


URLS: dict[str, Url] = {
    # The public archive: cached for anonymous visitors, GET only.
    "home": Url(PAGE, user="anonymous"),
    "statement_list": Url(PAGE, user="anonymous"),
    "feed": Url(PAGE, user="anonymous"),
    "api_statements": Url(PAGE, user="anonymous"),
    "api_statement": Url(PAGE, published, user="anonymous"),
    "sitemap": Url(PAGE, user="anonymous"),
    "robots_txt": Url(PAGE, user="anonymous"),
    "statement_detail": Url(PAGE, published, user="anonymous"),
    "statement_signatories": Url(PAGE, published, user="anonymous"),
    "statement_preview": Url(PAGE, lambda w: [w["published"].slug, "en"], user="anonymous"),
    "statement_embed": Url(PAGE, published, user="anonymous"),
    "api_statement_signatories": Url(PAGE, published, user="anonymous"),
    "statement_pdf": Url(PAGE, published, user="anonymous", get=404),  # its PDF is still being made
    "organisation_list": Url(PAGE, user="anonymous"),
    "organisation_detail": Url(PAGE, lambda w: [w["organisation"].slug], user="anonymous"),
    "coalition_detail": Url(PAGE, lambda w: [w["coalition"].slug], user="anonymous"),
    "healthz": Url(PAGE, user="anonymous"),
    # Sets the language cookie only (a preference, not data), so a link on cached pages can.
    "choose_language": Url(PAGE, lambda w: ["uk"], user="anonymous", get=302),
    "verify_root": Url(PAGE, user="anonymous"),
    "short_link": Url(PAGE, lambda w: [w["published"].pk], user="anonymous", get=302),
    "subscription_sent": Url(PAGE, user="anonymous"),
    "signature_sent": Url(PAGE, open_, user="anonymous"),
    "privacy": Url(PAGE, user="anonymous"),
    "privacy_erase_sent": Url(PAGE, user="anonymous"),
    "transparency": Url(PAGE, user="anonymous"),
    # Signed-in pages that change nothing.
    "dashboard": Url(PAGE),
    "statement_history": Url(PAGE, draft),
    "statement_diff": Url(PAGE, draft),
    "statement_events": Url(PAGE, draft),
    "statement_review": Url(PAGE, lambda w: [w["draft"].slug, "open"]),  # the confirming form posts elsewhere
    "statement_roster": Url(PAGE, open_),
    "statement_signatures_csv": Url(PAGE, open_),
    "outbox_problems": Url(PAGE, lambda w: [w["coalition"].slug]),
    "coalition_people": Url(PAGE, lambda w: [w["coalition"].slug]),
    "coalition_embedding": Url(FORM, lambda w: [w["coalition"].slug]),
    "coalition_look": Url(FORM, lambda w: [w["coalition"].slug]),
    "coalition_look_css": Url(PAGE, lambda w: [w["coalition"].slug, "000000000000"], user="anonymous"),
    "coalition_logo": Url(PAGE, lambda w: [w["coalition"].slug, "logo-" + "0" * 20, "svg"], user="anonymous", get=404),
    # Form pages.
    "verify": Url(FORM, user="anonymous"),  # the POST only checks a file, but it is a form all the same
    "subscribe": Url(FORM, user="anonymous"),
    "privacy_erase": Url(FORM, user="anonymous"),
    # A link that was never sent: refused (404) either way, but the token check comes first.
    "privacy_erase_confirm": Url(FORM, lambda w: ["not-a-link-we-sent"], user="anonymous", get=404),
    "subscription_confirm": Url(FORM, lambda w: [w["subscription_token"]], user="anonymous"),
    "unsubscribe": Url(FORM, lambda w: [w["unsubscribe_token"]], user="anonymous", csrf_exempt=(
        "RFC 8058 one-click unsubscribe: mail programs post it without a session; the signed token "
        "in the address authorises it")),
    "statement_sign": Url(FORM, open_),
    "signature_confirm": Url(FORM, lambda w: [w["open"].slug, w["signature_token"]], user="anonymous"),
    "statement_create": Url(FORM),
    "statement_edit": Url(FORM, draft),
    "statement_translate": Url(FORM, lambda w: [w["draft"].slug, "uk"]),
    "invitations": Url(FORM, lambda w: [w["coalition"].slug]),
    "invitation_accept": Url(FORM, lambda w: [w["invitation"].token], user="anonymous"),
    "notification_preferences": Url(FORM),
    "account_time_zone": Url(FORM),
    # Actions.
    "set_language": Url(ACTION),
    "invitation_revoke": Url(ACTION, lambda w: [w["invitation"].pk]),
    "outbox_retry": Url(ACTION, lambda w: [w["coalition"].slug, w["email"].pk]),
    # The coordinator's own role at the member organisation: they may sign for it.
    "coalition_people_grant_signing": Url(ACTION, lambda w: [w["coalition"].slug, w["role"].pk]),
    "coalition_people_withdraw_signing": Url(ACTION, lambda w: [w["coalition"].slug, w["role"].pk]),
    "coalition_people_remove": Url(ACTION, lambda w: [w["coalition"].slug, w["role"].pk]),
    "comment_add": Url(ACTION, draft),
    "comment_resolve": Url(ACTION, lambda w: [w["draft"].slug, w["comment"].pk]),
    "statement_open": Url(ACTION, draft),
    "statement_close": Url(ACTION, open_),
    "statement_publish": Url(ACTION, lambda w: [w["closed"].slug]),
    "statement_reopen": Url(ACTION, lambda w: [w["closed"].slug]),
    "statement_deadline": Url(ACTION, open_),
    "statement_withdraw": Url(ACTION, draft),
    "statement_correct": Url(ACTION, published),
    "publication_retry": Url(ACTION, lambda w: [w["published"].slug, 1]),
    "statement_decline": Url(ACTION, open_),
    "signature_withdraw": Url(ACTION, lambda w: [w["open"].slug, w["signature"].pk]),
    "signature_confirm_text": Url(ACTION, lambda w: [w["open"].slug, w["signature"].pk]),
    "signature_hide": Url(ACTION, lambda w: [w["open"].slug, w["signature"].pk]),
    "statement_invite_partner": Url(ACTION, open_),
    "statement_signatory_order": Url(ACTION, open_),
    "statement_remind": Url(ACTION, open_),
    "statement_remind_organisation": Url(ACTION, lambda w: [w["open"].slug, w["organisation"].slug]),
}

# allauth and the admin: representatives of their pages, not every one of them.
REPRESENTATIVES: dict[str, Url] = {
    "account_login": Url(FORM, user="anonymous"),
    "account_logout": Url(FORM),
    "account_reset_password": Url(FORM, user="anonymous"),
    "account_change_password": Url(FORM),
    "mfa_index": Url(PAGE),
    "mfa_generate_recovery_codes": Url(FORM, get=302),  # asks for the password again first
    "mfa_deactivate_totp": Url(FORM, get=302),  # likewise
    "admin:login": Url(FORM, user="anonymous", get=302),  # sends to the site's own sign-in
    "admin:logout": Url(ACTION, user="operator"),
    "admin:coalition_organisation_change": Url(FORM, lambda w: [w["organisation"].pk], user="operator"),
}
ALL = {**URLS, **REPRESENTATIVES}


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
        f"Classify these URLs in tests/test_csrf_sweep.py (read-only page, form page or action): {unclassified}")
    assert not sorted(set(URLS) - names), "URLS names URLs the project no longer has"


@pytest.fixture
def world(coalition, member_org, coordinator):
    """One of each object the URLs act on; the coordinator also signs for the member organisation."""
    role = OrganisationRole.objects.create(user=coordinator, organisation=member_org, coalition=coalition, can_sign=True)
    draft = factories.make_statement(coalition, by=coordinator, title="A draft")
    open_statement = factories.make_statement(coalition, by=coordinator, status="open", title="Open",
                                              allows_individuals=True)
    signature = cosigning.sign_for_organisation(open_statement, by=coordinator, organisation=member_org,
                                                sha256=open_statement.signed_revision.sha256)
    signature_token = cosigning.sign_as_individual(
        open_statement, person=cosigning.Individual(name="Olena", email="olena@example.org"), ip="127.0.0.1")
    email = OutboundEmail.objects.create(
        kind="invitation", coalition=coalition, dedupe_key="sweep", recipient="someone@example.org",
        subject="Invitation", body_text="Join us.", message_id="<sweep@example.org>", attempts=8,
        failed_at=timezone.now(), last_error="550 no such user")
    return {
        "coalition": coalition,
        "organisation": member_org,
        "coordinator": coordinator,
        "role": role,
        "draft": draft,
        "open": open_statement,
        "closed": factories.make_statement(coalition, by=coordinator, status="closed", title="Closed"),
        "published": factories.make_statement(coalition, by=coordinator, status="published", title="Published"),
        "comment": services.add_comment(draft, by=coordinator, body="A comment."),
        "signature": signature,
        "signature_token": signature_token,
        "invitation": factories.InvitationFactory(coalition=coalition, organisation=member_org),
        "email": email,
        "subscription_token": subscriptions.subscribe("reader@example.org", language="en", ip="127.0.0.2"),
        "unsubscribe_token": unsubscribe.make_token("reader@example.org", sorted(unsubscribe.BULK_KINDS)[0]),
    }


def client_for(world, who: str, *, enforce_csrf_checks: bool) -> Client:
    client = Client(enforce_csrf_checks=enforce_csrf_checks)
    if who == "coordinator":
        client.force_login(world["coordinator"])
    elif who == "operator":
        operator = factories.UserFactory(is_staff=True, is_superuser=True)
        factories.enrol_totp(operator)
        client.force_login(operator)
    return client


def is_csrf_refusal(response) -> bool:
    return response.status_code == 403 and b"CSRF verification failed" in response.content


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
