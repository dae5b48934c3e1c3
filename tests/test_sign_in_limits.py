"""Failed sign-ins are counted per address and IP, under a higher ceiling per address: a stranger
guessing passwords or two-factor codes for an address from elsewhere is stopped without locking
its owner out, and is answered as any other limit answers."""

import pytest
from django.test import Client
from django.urls import reverse

from . import factories

pytestmark = pytest.mark.django_db

STRANGER = {"REMOTE_ADDR": "203.0.113.66"}
OWNER = {"REMOTE_ADDR": "198.51.100.7"}


def sign_in(client, email, password="wrong-password", **extra):
    return client.post(reverse("account_login"), {"login": email, "password": password}, **extra)


def wrong_code(user) -> str:
    return f"{(int(factories.totp_code(user)) + 1) % 1_000_000:06d}"


def test_five_wrong_passwords_from_another_ip_leave_the_owner_able_to_sign_in(client, signer):
    assert [sign_in(client, signer.email, **STRANGER).status_code for _ in range(5)] == [200] * 5
    refused = sign_in(client, signer.email, **STRANGER)
    assert refused.status_code == 429 and "Too many failed login attempts" in refused.content.decode()
    owner = client_for_owner()
    response = sign_in(owner, signer.email, password=factories.PASSWORD, **OWNER)
    assert response.status_code == 302 and owner.session["_auth_user_id"] == str(signer.pk)


def test_the_owners_own_wrong_passwords_are_limited_like_a_strangers(client, signer):
    for _ in range(5):
        sign_in(client, signer.email, **OWNER)
    response = sign_in(client, signer.email, password=factories.PASSWORD, **OWNER)
    assert response.status_code == 429 and "_auth_user_id" not in client.session


def test_the_per_address_ceiling_still_holds_across_ips(client, signer, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed": "100/m/ip,3/5m/key"}
    settings.SIGN_IN_RATE_LIMIT_PER_ADDRESS_AND_IP = "2/5m"
    for number in range(3):
        assert sign_in(client, signer.email, REMOTE_ADDR=f"192.0.2.{number + 1}").status_code == 200
    ceiling = sign_in(client, signer.email, REMOTE_ADDR="192.0.2.50")
    assert ceiling.status_code == 429 and "_auth_user_id" not in client.session
    # Another address: its third try from one IP is refused by the limit per address and IP.
    by_address_and_ip = [sign_in(client, "someone@example.org", **STRANGER) for _ in range(3)]
    assert [r.status_code for r in by_address_and_ip] == [200, 200, 429]
    by_address_and_ip = by_address_and_ip[-1]
    # The same answer whichever limit was reached.
    assert ceiling.status_code == by_address_and_ip.status_code == 429
    message = "Too many failed login attempts"
    assert message in ceiling.content.decode() and message in by_address_and_ip.content.decode()


def test_five_wrong_codes_from_another_ip_leave_the_owner_able_to_sign_in(client, coordinator):
    assert sign_in(client, coordinator.email, password=factories.PASSWORD, **STRANGER).url == reverse("mfa_authenticate")
    for _ in range(5):
        response = client.post(reverse("mfa_authenticate"), {"code": wrong_code(coordinator)}, **STRANGER)
        assert "Incorrect code." in response.content.decode()
    refused = client.post(reverse("mfa_authenticate"), {"code": factories.totp_code(coordinator)}, **STRANGER)
    assert "Too many failed login attempts" in refused.content.decode() and "_auth_user_id" not in client.session
    owner = client_for_owner()
    assert sign_in(owner, coordinator.email, password=factories.PASSWORD, **OWNER).url == reverse("mfa_authenticate")
    response = owner.post(reverse("mfa_authenticate"), {"code": factories.totp_code(coordinator)}, **OWNER)
    assert response.status_code == 302 and owner.session["_auth_user_id"] == str(coordinator.pk)


def client_for_owner() -> Client:
    """The owner, in a browser of their own."""
    return Client()
