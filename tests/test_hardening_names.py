"""Names that lie, and the demo in production (issue 14, items 3, 4 and 9): seed_demo refuses with
DEBUG off and never gives its published demo accounts roles on real organisations; the confirmation
email to an unconfirmed address carries no text a stranger typed beyond a plain name; names,
affiliations and titles refuse web addresses, control and bidi characters; look-alike
organisation names are flagged in the admin and refused as individuals' names."""

import io
from html import escape

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from coalition import demo, validators
from coalition.models import Coalition, CoalitionRole, Membership, Organisation, OrganisationRole, OutboundEmail, User

from statements import notifications, services
from statements.models import Signature
from statements.services import cosigning
from statements.services import Draft

from . import factories
from .factories import make_statement
from .helpers import PRODUCTION_ENV, inline_management, manage, sign

pytestmark = pytest.mark.django_db

PHISHING_NAME = "Olena. URGENT: your signature was flagged, re-verify at https://evil.example/login now"
BIDI_CONTROLS = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
                 "\u200e", "\u200f", "\u061c"]
INVISIBLE = ["\u200b", "\u2060", "\ufeff", "\u00ad", "\x07", "\x1b"]
CYRILLIC_O = "\u043e"


# seed_demo ---------------------------------------------------------------------------------------


def test_seed_demo_refuses_with_debug_off_and_writes_nothing(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo")
    assert not Coalition.objects.exists() and not Organisation.objects.exists()
    assert not User.objects.filter(email="coordinator@example.org").exists()


@pytest.mark.slow
def test_manage_py_seed_demo_under_debug_0_exits_with_the_reason(tmp_path):
    database = tmp_path / "db.sqlite3"
    result = manage("seed_demo", env={**PRODUCTION_ENV, "DATABASE_URL": f"sqlite:///{database}"})
    assert result.returncode != 0
    assert "DEBUG is off" in result.stderr and "--i-know-this-is-production" in result.stderr
    assert "coalition-demo" not in result.stdout


def test_seed_demo_with_the_production_flag_seeds_and_marks_what_it_made(settings):
    settings.DEBUG = False
    call_command("seed_demo", "--i-know-this-is-production", stdout=io.StringIO())
    coalition = Coalition.objects.get(slug="ukraine-5am")
    assert coalition.demo
    assert Organisation.objects.filter(demo=False).count() == 0
    assert Organisation.objects.filter(demo=True).count() == len(demo.organisation_names())
    signer = User.objects.get(email="signer@example.org")
    assert {role.organisation.name for role in signer.organisation_roles.filter(can_sign=True)} == {
        "Truth Hounds", "Human Rights Center ZMINA"}


def test_seed_demo_gives_no_role_on_a_real_organisation_that_has_a_demo_name(settings):
    settings.DEBUG = True
    real = factories.OrganisationFactory(name="Truth Hounds", slug="truth-hounds-real")
    with pytest.raises(CommandError) as refused:
        call_command("seed_demo")
    assert "“Truth Hounds”" in str(refused.value) and "seed_demo made none of these" in str(refused.value)
    assert not OrganisationRole.objects.filter(organisation=real).exists()
    assert not Membership.objects.filter(organisation=real).exists()
    assert not User.objects.filter(email__in=["signer@example.org", "coordinator@example.org"]).exists()
    assert not Coalition.objects.filter(slug="ukraine-5am").exists()


def test_seed_demo_makes_no_coordinator_of_a_real_coalition_with_the_demo_address(settings):
    settings.DEBUG = True
    real = factories.CoalitionFactory(name="Ukraine 5AM (real)", slug="ukraine-5am")
    with pytest.raises(CommandError, match="the coalition “Ukraine 5AM \\(real\\)”"):
        call_command("seed_demo")
    assert not CoalitionRole.objects.filter(coalition=real).exists()
    assert not real.memberships.exists()


# The confirmation email --------------------------------------------------------------------------


@pytest.fixture
def statement(coalition, coordinator):
    return make_statement(coalition, by=coordinator, status="open", allows_individuals=True,
                          title="Stop the deportation of children", body="We call on every state to act.")


@pytest.mark.parametrize("name", [
    PHISHING_NAME,
    "Olena — verify your account at evil.example/login",
    "Olena www.evil.example",
    "Olena (write to support@evil.example)",
    "Olena http://192.0.2.1/x",
])
def test_a_name_with_a_web_address_is_refused_and_nothing_is_emailed(client, statement, name):
    response = sign(client, statement, name=name)
    assert response.status_code == 400
    assert "A name cannot contain a web address or an email address." in response.content.decode()
    assert f'value="{escape(name)}"' in response.content.decode()  # what was typed stays in the form
    assert not OutboundEmail.objects.exists() and not Signature.objects.filter(kind="individual").exists()


def test_an_affiliation_with_a_web_address_is_refused(client, statement):
    response = sign(client, statement, affiliation="Support team, https://evil.example/verify")
    assert response.status_code == 400
    assert "A name cannot contain a web address" in response.content.decode()
    assert not OutboundEmail.objects.exists()


def test_the_confirmation_email_starts_with_the_plain_name_only(client, statement):
    assert sign(client, statement).status_code == 302
    email = OutboundEmail.objects.get(kind="signature_confirmation", recipient="victim@example.net")
    assert email.body_text.startswith("Dear Olena Koval,\n")
    assert "Lawyer" not in email.body_text  # the affiliation is not repeated to an unconfirmed address


def test_a_name_stored_before_the_checks_reaches_the_email_without_links_or_controls(statement):
    signature = Signature.objects.create(
        statement=statement, revision=statement.signed_revision, sha256=statement.signed_revision.sha256,
        kind=Signature.Kind.INDIVIDUAL, name=f"Olena\u202e URGENT re-verify at https://evil.example/x evil.example",
        email="victim@example.net")
    notifications.individual_signature_confirmation(signature, token="t" * 43)
    email = OutboundEmail.objects.get(kind="signature_confirmation")
    for part in (email.subject, email.body_text, email.body_html):
        assert "evil.example" not in part and "\u202e" not in part
    first_line = email.body_text.splitlines()[0]
    assert first_line.startswith("Dear Olena") and len(first_line) <= len("Dear ,") + validators.PLAIN_NAME_LENGTH


def test_a_name_that_is_only_a_link_greets_without_a_name(statement):
    signature = Signature.objects.create(
        statement=statement, revision=statement.signed_revision, sha256=statement.signed_revision.sha256,
        kind=Signature.Kind.INDIVIDUAL, name="https://evil.example/login", email="victim@example.net")
    notifications.individual_signature_confirmation(signature, token="t" * 43)
    email = OutboundEmail.objects.get(kind="signature_confirmation")
    assert email.body_text.startswith("Hello,\n") and "evil" not in email.body_text


# Names and titles: bidi and control characters -------------------------------------------------


@pytest.mark.parametrize("char", BIDI_CONTROLS)
def test_a_bidi_control_in_a_name_is_refused_with_a_clear_message(client, statement, char):
    response = sign(client, statement, name=f"Olena {char}lavoK")
    assert response.status_code == 400
    assert "changes the direction of text" in response.content.decode()
    assert not Signature.objects.filter(kind="individual").exists()


@pytest.mark.parametrize("char", INVISIBLE)
def test_an_invisible_or_control_character_in_an_affiliation_is_refused(client, statement, char):
    response = sign(client, statement, affiliation=f"Law{char}yer")
    assert response.status_code == 400
    assert "invisible or control character" in response.content.decode()


def test_the_service_refuses_what_the_form_would(statement):
    for person in (cosigning.Individual(name="Olena \u202eKoval", email="a@example.net"),
                   cosigning.Individual(name="Olena", affiliation="see evil.example/x", email="b@example.net")):
        with pytest.raises(ValidationError):
            cosigning.sign_as_individual(statement, person=person, ip="192.0.2.9")
    assert not Signature.objects.filter(kind="individual").exists() and not OutboundEmail.objects.exists()


def test_a_title_with_a_bidi_control_is_refused_on_the_page_and_by_the_service(client, staff, coalition):
    client.force_login(staff)
    data = {"coalition": coalition.pk, "language": "en", "title": "Statement on \u202eabuses\u202c",
            "summary": "", "body": "Text.", "save": "1"}
    response = client.post(reverse("statement_create"), data)
    assert response.status_code in (200, 400)
    assert "changes the direction of text" in response.content.decode()
    assert "Text." in response.content.decode()  # nothing typed is lost
    with pytest.raises(ValidationError):
        services.create_draft(coalition, by=staff, draft=Draft("Truth \u2067Hounds", "", "Text."), language="en")
    assert not coalition.statements.exists()


def test_a_staff_member_cannot_take_a_name_with_a_link_when_accepting_an_invitation(client, coalition, member_org,
                                                                                    coordinator):
    from coalition import services as coalition_services

    coalition_services.invite(coalition, by=coordinator, email="new@example.org", role="staff",
                              organisation=member_org)
    token = factories.emailed_invitation_token("new@example.org")
    response = client.post(reverse("invitation_accept", args=[token]), {
        "name": "Support: https://evil.example", "password1": "a-long-new-password-9", "password2": "a-long-new-password-9"})
    assert response.status_code == 400
    assert "A name cannot contain a web address" in response.content.decode()
    assert not User.objects.filter(email="new@example.org").exists()


def test_the_admin_refuses_an_organisation_name_with_a_bidi_control(client, coordinator):
    coordinator.is_staff = coordinator.is_superuser = True
    coordinator.save()
    client.force_login(coordinator)
    response = client.post(reverse("admin:coalition_organisation_add"), {
        "name": "Truth \u202eHounds", "slug": "truth-hounds-2", "description": "", "website": "",
        **inline_management()})
    assert response.status_code == 200 and "changes the direction of text" in response.content.decode()
    assert not Organisation.objects.filter(slug="truth-hounds-2").exists()


def test_real_names_and_the_demo_organisations_pass(db):
    for name in [*demo.organisation_names(), "Halyna Moroz", "J. R. R. Tolkien", "Олена Коваль",
                 "Ph.D. candidate", "Lawyer, Kharkiv", "Mary-Jane O’Neil", "Center for Civil Liberties"]:
        validators.validate_name(name)
    validators.validate_description("A Ukrainian human-rights organisation.\nFounded in 2012.")
    skeletons = {validators.skeleton(name) for name in demo.organisation_names()}
    assert len(skeletons) == len(demo.organisation_names())  # no two demo members taken for each other


# Look-alike organisation names ------------------------------------------------------------------


def test_the_admin_warns_when_a_new_organisation_looks_like_an_existing_one(client, coordinator):
    factories.OrganisationFactory(name="Truth Hounds", slug="truth-hounds")
    coordinator.is_staff = coordinator.is_superuser = True
    coordinator.save()
    client.force_login(coordinator)
    impostor = f"Truth H{CYRILLIC_O}unds"
    response = client.post(reverse("admin:coalition_organisation_add"), {
        "name": impostor, "slug": "truth-hounds-2", "description": "", "website": "", **inline_management()},
        follow=True)
    page = response.content.decode()
    assert Organisation.objects.filter(slug="truth-hounds-2").exists()
    assert f"“{impostor}” looks like “Truth Hounds”" in page
    assert "mixes letters of different alphabets" in page


def test_the_admin_does_not_warn_about_an_ordinary_new_organisation(client, coordinator):
    factories.OrganisationFactory(name="Truth Hounds", slug="truth-hounds")
    coordinator.is_staff = coordinator.is_superuser = True
    coordinator.save()
    client.force_login(coordinator)
    response = client.post(reverse("admin:coalition_organisation_add"), {
        "name": "Blue Bird", "slug": "blue-bird", "description": "", "website": "", **inline_management()},
        follow=True)
    page = response.content.decode()
    assert Organisation.objects.filter(slug="blue-bird").exists()
    assert "looks like" not in page and "mixes letters" not in page


@pytest.mark.parametrize("name", ["Truth Hounds", "truth hounds", "TRUTH-HOUNDS", f"Truth H{CYRILLIC_O}unds",
                                  "Truth \u041dounds"])  # the last with a Cyrillic Н
def test_nobody_signs_as_an_individual_named_like_an_organisation(client, statement, name):
    factories.OrganisationFactory(name="Truth Hounds", slug="truth-hounds")
    response = sign(client, statement, name=name)
    assert response.status_code == 400
    assert "“Truth Hounds” is the name of an organisation" in response.content.decode()
    assert not Signature.objects.filter(kind="individual").exists() and not OutboundEmail.objects.exists()


def test_a_person_may_give_an_organisation_as_affiliation(client, statement):
    factories.OrganisationFactory(name="Truth Hounds", slug="truth-hounds")
    assert sign(client, statement, name="Roman Avramenko", affiliation="Truth Hounds").status_code == 302
    assert Signature.objects.get(kind="individual").affiliation == "Truth Hounds"
