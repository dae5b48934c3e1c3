import re
from pathlib import Path

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import decrypt
from django.core.management import call_command
from django.urls import reverse

from coalition import demo, permissions
from coalition.models import Coalition, Membership, Organisation, User

from . import factories

pytestmark = pytest.mark.django_db

SHARED_MEMBERS = Path(__file__).resolve().parents[2] / "shared" / "demo" / "ukraine-5am-members.txt"


@pytest.fixture
def seeded(capsys, settings):
    settings.DEBUG = True  # as in development: with DEBUG off seed_demo refuses (test_hardening_names)
    call_command("seed_demo")
    return capsys.readouterr().out


def test_seed_demo_creates_the_coalition_with_all_38_members(seeded):
    coalition = Coalition.objects.get(slug="ukraine-5am")
    names = set(Membership.objects.current().filter(coalition=coalition).values_list("organisation__name", flat=True))
    assert len(names) == 38
    assert {"Truth Hounds", "Human Rights Center ZMINA", "‘Almenda’ Civic Education Center"} <= names
    if SHARED_MEMBERS.exists():
        expected = {line.strip() for line in SHARED_MEMBERS.read_text(encoding="utf-8").splitlines() if line.strip()}
        assert names == expected


def test_the_center_for_civil_liberties_is_a_partner_outside_the_coalition(seeded):
    ccl = Organisation.objects.get(name="Center for Civil Liberties")
    assert not permissions.is_current_member(ccl, Coalition.objects.get(slug="ukraine-5am"))


def test_seed_demo_users_have_their_roles(seeded):
    coalition = Coalition.objects.get(slug="ukraine-5am")
    truth_hounds = Organisation.objects.get(name="Truth Hounds")
    zmina = Organisation.objects.get(name="Human Rights Center ZMINA")
    coordinator, signer, drafter, outsider = (User.objects.get(email=f"{n}@example.org")
                                              for n in ("coordinator", "signer", "drafter", "outsider"))
    assert permissions.is_coordinator(coordinator, coalition)
    assert permissions.can_sign_for(signer, truth_hounds, coalition) and permissions.can_sign_for(signer, zmina, coalition)
    assert permissions.is_member_staff(drafter, coalition) and not permissions.can_sign_for(drafter, truth_hounds, coalition)
    assert not permissions.is_member_staff(outsider, coalition)
    for user in (coordinator, signer, drafter, outsider):
        assert user.check_password("coalition-demo")
        assert user.email in seeded


def test_seed_demo_twice_changes_nothing(seeded):
    counts = (Organisation.objects.count(), Membership.objects.count(), User.objects.count())
    call_command("seed_demo")
    assert (Organisation.objects.count(), Membership.objects.count(), User.objects.count()) == counts


def test_demo_coordinator_signs_in_with_a_code_from_the_printed_key_and_opens_the_admin(seeded, client):
    assert demo.DEMO_TOTP_SECRET in seeded
    uri = re.search(r"otpauth://totp/\S+", seeded).group(0)
    assert f"secret={demo.DEMO_TOTP_SECRET}" in uri and "coordinator%40example.org" in uri
    response = client.post(reverse("account_login"), {"login": "coordinator@example.org", "password": "coalition-demo"})
    assert response.url == reverse("mfa_authenticate")
    coordinator = User.objects.get(email="coordinator@example.org")
    totp = Authenticator.objects.get(user=coordinator, type=Authenticator.Type.TOTP)
    assert decrypt(totp.data["secret"]) == demo.DEMO_TOTP_SECRET  # the app's codes are the site's
    response = client.post(reverse("mfa_authenticate"), {"code": factories.totp_code(coordinator)})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_seed_demo_twice_keeps_the_demo_coordinators_key_and_recovery_codes(seeded):
    coordinator = User.objects.get(email="coordinator@example.org")
    before = list(Authenticator.objects.filter(user=coordinator).order_by("type").values_list("pk", "type", "data"))
    assert [kind for _, kind, _ in before] == [Authenticator.Type.RECOVERY_CODES, Authenticator.Type.TOTP]
    codes = demo.recovery_codes(coordinator)
    assert len(codes) == 10 and " ".join(codes) in seeded
    call_command("seed_demo")
    after = list(Authenticator.objects.filter(user=coordinator).order_by("type").values_list("pk", "type", "data"))
    assert after == before
