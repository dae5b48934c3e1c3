"""Pages in words for people: the Events page in sentences, /verify/ naming the signer plainly, no
hashes to the public elsewhere, no "---------" in a dropdown, the two-factor pages in the site's
design, and a favicon."""

import ast
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from coalition import audit
from statements import events, services
from statements.services import cosigning

from .factories import OrganisationFactory, make_statement

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
HEX64 = re.compile(r"\b[0-9a-f]{64}\b")

# Calls whose action is not a string literal, and the actions each can record. A new such call
# fails the sweep below until it is listed here (and its actions have sentences).
COMPUTED_ACTIONS = {
    ("coalition/services.py", 'f"member.signing_{change}"'): {"member.signing_granted", "member.signing_withdrawn"},
    ("statements/services/cosigning.py", "action"): {"signature.confirmed", "signature.text_confirmed"},
}


def recorded_actions() -> set[str]:
    """Every action the code records: the second argument of each `audit.record(...)` call."""
    found = set()
    for path in [*ROOT.glob("coalition/**/*.py"), *ROOT.glob("statements/**/*.py")]:
        if "migrations" in path.parts:
            continue
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "record"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "audit"):
                continue
            action = node.args[1]
            if isinstance(action, ast.Constant):
                found.add(action.value)
                continue
            key = (str(path.relative_to(ROOT)), ast.get_source_segment(source, action))
            assert key in COMPUTED_ACTIONS, f"an audit action computed at {key}: list what it can be"
            found |= COMPUTED_ACTIONS[key]
    return found


def test_every_action_the_code_records_has_a_sentence():
    actions = recorded_actions()
    assert len(actions) > 25 and "statement.published" in actions
    assert sorted(actions - set(events.SENTENCES)) == []


def test_every_sentence_fills_from_the_data_the_code_records():
    for action, entry in events.SENTENCES.items():
        for text in [entry.person, entry.system, *entry.extras.values()]:
            if text is not None:
                assert "%(" not in str(text) % events._Missing(actor="A", organisation="B"), action


@pytest.fixture
def statement(coalition, coordinator, staff):
    return make_statement(coalition, by=staff, coordinator=coordinator, status="open")


def events_page(client, user, statement, **headers) -> str:
    client.force_login(user)
    response = client.get(reverse("statement_events", args=[statement.slug]), **headers)
    assert response.status_code == 200
    return response.content.decode()


def test_the_events_page_says_who_did_what_in_words(client, statement, coordinator, signer, member_org):
    coordinator.name, signer.name = "Olena Koval", "Andrii Melnyk"
    coordinator.save(), signer.save()
    partner = OrganisationFactory(name="Partner Group")
    cosigning.sign_for_organisation(statement, by=signer, organisation=member_org,
                                    sha256=statement.signed_revision.sha256)
    cosigning.invite_partner(statement, by=coordinator, organisation=partner)
    services.close_signing(statement, by=coordinator)
    page = events_page(client, coordinator, statement)
    assert f"{member_org.name} signed revision 1 (signed by Andrii Melnyk)." in page
    assert "Olena Koval opened revision 1 for signature." in page
    assert "Olena Koval invited Partner Group to sign as a partner." in page
    assert "Olena Koval closed signing on revision 1." in page
    assert "started the draft: revision 1, in English." in page


def test_the_events_page_shows_no_codes_ids_or_hashes(client, statement, coordinator, signer, member_org):
    cosigning.sign_for_organisation(statement, by=signer, organisation=member_org,
                                    sha256=statement.signed_revision.sha256)
    page = events_page(client, coordinator, statement)
    for action in events.SENTENCES:
        assert action not in page
    assert not HEX64.search(page)
    assert "organisation_id" not in page and "sha256" not in page and "email_hmac" not in page


def test_an_organisation_is_named_as_it_is_called_now_and_all_are_read_in_one_query(
        client, statement, coordinator, signer, member_org, django_assert_max_num_queries):
    cosigning.sign_for_organisation(statement, by=signer, organisation=member_org,
                                    sha256=statement.signed_revision.sha256)
    for number in range(3):
        cosigning.invite_partner(statement, by=coordinator, organisation=OrganisationFactory(name=f"Partner {number}"))
    lines = audit.events_for(statement)
    with django_assert_max_num_queries(2):  # the events, and every organisation they name
        described = events.describe_all(lines.select_related("actor"))
    assert any("Partner 2 to sign as a partner" in line.sentence for line in described)


def test_an_unknown_action_reads_a_generic_sentence_not_its_code(statement, coordinator):
    event = audit.record(coordinator, "statement.something_new", statement, secret_id=42)
    line = events.describe(event, {})
    assert line.sentence == f"{coordinator.get_full_name()} made a change."
    assert "something_new" not in line.sentence and "42" not in line.sentence


def test_a_step_the_site_took_reads_as_the_sites(statement):
    type(statement).objects.filter(pk=statement.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    services.close_signing(statement, by=None)
    event = audit.events_for(statement).get(action="statement.closed")
    assert events.describe(event, {}).sentence == "Signing on revision 1 closed at the deadline."


def test_the_events_page_speaks_ukrainian_without_gendered_verbs(client, statement, coordinator, signer, member_org):
    coordinator.name, coordinator.language = "Олена Коваль", "uk"
    coordinator.save()
    cosigning.sign_for_organisation(statement, by=signer, organisation=member_org,
                                    sha256=statement.signed_revision.sha256)
    page = events_page(client, coordinator, statement)
    assert "Олена Коваль: редакцію 1 відкрито для підписання." in page
    assert f"Підписано від імені {member_org.name}: редакція 1 (підписант — {signer.get_full_name()})." in page
    assert "мова: англійська" in page and "opened revision" not in page
    assert not HEX64.search(page)


# /verify/ names the signer in words -------------------------------------------------------------


@pytest.fixture
def published(coalition, coordinator, signer, member_org, django_capture_on_commit_callbacks, settings, tmp_path):
    from .helpers import closed_statement, publish

    settings.MEDIA_ROOT = tmp_path / "media"
    return publish(closed_statement(coalition, coordinator, signer, member_org), coordinator,
                   django_capture_on_commit_callbacks)


def test_verify_names_the_signer_in_plain_words_and_keeps_the_fingerprint(client, published):
    page = client.get(reverse("verify"), {"sha256": published.sha256}).content.decode()
    assert "Signed by Test Coalition on" in page and "The certificate of Test Coalition" in page
    assert "The certificate of Test Coalition root CA, Test Coalition" in page  # the root's, below
    assert "Common Name" not in page and "Organization:" not in page
    assert published.certificate_sha256 in page  # hashes belong on /verify/


def test_a_certificate_of_a_person_names_the_person_and_the_organisation():
    from django.template.loader import render_to_string

    said = render_to_string("statements/_certificate_subject.html", {
        "subject": "Common Name: Andrii Melnyk, Organization: Truth Hounds, Country: UA",
        "name": "Andrii Melnyk", "organisation": "Truth Hounds", "country": "UA"})
    assert " ".join(said.split()) == "The certificate of Andrii Melnyk, Truth Hounds (country code UA)"


# No hashes to the public but on /verify/ ---------------------------------------------------------


def test_the_public_confirm_page_and_statement_page_show_no_hash(client, coalition, coordinator, published):
    open_statement = make_statement(coalition, by=coordinator, status="open", allows_individuals=True)
    token = cosigning.sign_as_individual(open_statement, person=cosigning.Individual(name="Olena", email="o@example.org"),
                                         ip="127.0.0.1")
    confirm = client.get(reverse("signature_confirm", args=[open_statement.slug, token])).content.decode()
    assert "Confirm your signature" in confirm
    visible = re.sub(r'(value|href)="[^"]*"', "", confirm)  # the form carries the text's hash, unseen
    assert not re.search(r"\b[0-9a-f]{12,}\b", visible) and "SHA-256" not in visible
    page = client.get(published.statement.get_absolute_url()).content.decode()
    assert "SHA-256" not in re.sub(r'href="[^"]*"', "", page)
    assert not HEX64.search(re.sub(r'href="[^"]*"', "", page))


# No "---------" in a dropdown --------------------------------------------------------------------

from .helpers import ALL, FORM, PAGE, client_for, world  # noqa: E402,F401  (the sweep's URLs and world)


@pytest.mark.slow
def test_no_page_a_coordinator_signer_or_drafter_uses_shows_a_blank_dashes_choice(world):
    for name, url in ALL.items():
        if url.kind not in (PAGE, FORM) or url.get != 200 or url.user == "operator":
            continue
        response = client_for(world, url.user, enforce_csrf_checks=False).get(
            reverse(name, args=url.args(world)) + (f"?{url.query}" if url.query else ""))
        if not response.streaming and response["Content-Type"].startswith("text/html"):
            assert "---------" not in response.content.decode(), name


def test_the_invitation_form_asks_to_choose_an_organisation(client, coalition, coordinator):
    client.force_login(coordinator)
    page = client.get(reverse("invitations", args=[coalition.slug])).content.decode()
    assert '<option value="" selected>Choose an organisation</option>' in page


# Favicon ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, kind", [("favicon.svg", "image/svg+xml"), ("favicon-32.png", "image/png"),
                                        ("apple-touch-icon.png", "image/png")])
def test_the_favicon_is_linked_and_served(client, name, kind):
    from django.contrib.staticfiles import finders
    from django.templatetags.static import static

    page = client.get(reverse("home")).content.decode()
    assert f'href="{static(name)}"' in page
    path = finders.find(name)
    assert path and Path(path).stat().st_size > 100
    response = client.get(static(name))
    assert response.status_code == 200 and response["Content-Type"] == kind


# The two-factor pages in the site's design -------------------------------------------------------


def code_page(client, user):
    from .factories import PASSWORD

    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.url == reverse("mfa_authenticate")
    return client.get(reverse("mfa_authenticate")).content.decode()


def test_the_code_page_explains_itself_in_the_sites_layout(client, coordinator):
    page = code_page(client, coordinator)
    assert 'class="site-header"' in page and "Enter the 6-digit code from your authenticator app" in page
    assert 'autocomplete="one-time-code"' in page and 'inputmode="numeric"' in page
    assert "recovery codes instead" in page
    assert "Two-Factor Authentication" not in page and "Code:" not in page
    assert re.search(r'<button type="submit">Sign in</button>\s*<button type="submit" form="logout-from-stage" '
                     r'class="button secondary">Cancel</button>', page)


def test_the_code_page_in_ukrainian(client, coordinator):
    client.cookies["django_language"] = "uk"
    page = code_page(client, coordinator)
    assert "Введіть шестизначний код із застосунку-автентифікатора" in page and "Two-Factor" not in page
    assert "один із кодів відновлення" in page and "Скасувати" in page


def test_the_recovery_codes_page_says_what_they_are_and_to_keep_them_safe(client, coordinator):
    from .helpers import sign_in_with_code

    sign_in_with_code(client, coordinator)
    page = client.get(reverse("mfa_view_recovery_codes")).content.decode()
    assert "Each code works once" in page and "Keep them safe" in page
    assert page.count('<li><code>') == 10
    assert reverse("mfa_download_recovery_codes") in page and reverse("mfa_generate_recovery_codes") in page
    index = client.get(reverse("mfa_index")).content.decode()
    assert "10 of 10 codes are still unused." in index and "Turn off two-factor authentication" in index


@pytest.mark.parametrize("url, says", [
    ("/accounts/password/reset/", "Enter the email address you sign in with"),
    ("/accounts/password/reset/done/", "Look in the spam folder"),
    ("/accounts/password/reset/key/1-not-a-key/", "A password reset link works once"),
    ("/accounts/confirm-email/not-a-key/", "This confirmation link has expired or is incomplete."),
])
def test_the_account_pages_say_what_to_do_in_the_sites_layout(client, url, says):
    page = client.get(url).content.decode()
    assert 'class="site-header"' in page and says in page


def test_signing_out_asks_once_with_a_way_back(client, signer):
    client.force_login(signer)
    page = client.get(reverse("account_logout")).content.decode()
    assert "Sign out of Coalition Statements on this device?" in page and "Stay signed in" in page
