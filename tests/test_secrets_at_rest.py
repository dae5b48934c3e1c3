"""Secrets at rest: two-factor secrets encrypted under MFA_ENCRYPTION_KEYS (and rotated), invitation
tokens stored as hashes, the admin showing neither secrets nor message texts, and message texts
deleted after their retention period."""

import base64
import hashlib
import io
import shutil
import subprocess
from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from cryptography.fernet import Fernet
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from coalition import demo, mfa_secrets, outbox
from coalition.models import Invitation, OutboundEmail
from statements import tasks

from . import factories
from .conftest import need_service

pytestmark = pytest.mark.django_db

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # base32, as an authenticator app takes it


def database_dump() -> str:
    """Everything the database holds, as a backup would: pg_dump on PostgreSQL, the SQL dump of
    the (in-memory) SQLite database otherwise."""
    if connection.vendor == "postgresql":
        need_service("pg_dump", bool(shutil.which("pg_dump")))
        params = connection.get_connection_params()
        command = ["pg_dump", "--data-only", "-h", params.get("host") or "127.0.0.1",
                   "-p", str(params.get("port") or 5432), "-U", params["user"], params["dbname"]]
        env = {"PGPASSWORD": params.get("password") or ""}
        return subprocess.run(command, capture_output=True, text=True, check=True, env=env, timeout=60).stdout
    connection.ensure_connection()
    return "\n".join(connection.connection.iterdump())


def sign_in_with_code(client, user, code: str):
    response = client.post(reverse("account_login"), {"login": user.email, "password": factories.PASSWORD})
    assert response.url == reverse("mfa_authenticate")
    return client.post(reverse("mfa_authenticate"), {"code": code})


def signs_in(client, user, secret: str = SECRET) -> bool:
    client.logout()
    cache.clear()  # a code is taken once per period (allauth's replay guard): a test signs in again
    response = sign_in_with_code(client, user, factories.current_totp_code(secret))
    return response.status_code == 302 and response.url == reverse("dashboard")


def new_key() -> str:
    return Fernet.generate_key().decode()


# Two-factor secrets ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_totp_secret_and_recovery_seed_are_not_in_a_database_dump_and_sign_in_still_works(client, coalition):
    coordinator = factories.CoordinatorFactory(coalition=coalition, totp=False).user
    factories.enrol_totp(coordinator, SECRET)
    seed = mfa_secrets.decrypt(Authenticator.objects.get(user=coordinator, type="recovery_codes").data["seed"])

    dump = database_dump()
    assert coordinator.email in dump  # the dump holds the tables
    assert SECRET not in dump and base64.b32decode(SECRET).hex() not in dump
    assert seed not in dump
    assert signs_in(client, coordinator)


def test_a_recovery_code_still_signs_in(client, coordinator):
    codes = RecoveryCodes(Authenticator.objects.get(user=coordinator, type=Authenticator.Type.RECOVERY_CODES))
    response = sign_in_with_code(client, coordinator, codes.get_unused_codes()[0])
    assert response.url == reverse("dashboard")


@pytest.mark.slow
def test_enrolling_through_the_pages_stores_the_key_encrypted(client, coalition):
    from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY

    user = factories.CoordinatorFactory(coalition=coalition, totp=False).user
    client.post(reverse("account_login"), {"login": user.email, "password": factories.PASSWORD})
    client.get(reverse("mfa_activate_totp"))
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post(reverse("mfa_activate_totp"), {"code": factories.current_totp_code(secret)})
    assert response.status_code == 302
    stored = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP).data["secret"]
    assert secret not in stored and mfa_secrets.decrypt(stored) == secret
    assert signs_in(client, user, secret)


def test_a_key_put_first_keeps_old_secrets_working_and_rotation_moves_them_to_it(client, coalition, settings):
    old, new = new_key(), new_key()
    settings.MFA_ENCRYPTION_KEYS = [old]
    coordinator = factories.CoordinatorFactory(coalition=coalition, totp=False).user
    factories.enrol_totp(coordinator, SECRET)

    settings.MFA_ENCRYPTION_KEYS = [new, old]
    assert signs_in(client, coordinator)  # the old key still opens it
    call_command("rotate_mfa_keys", stdout=io.StringIO())

    settings.MFA_ENCRYPTION_KEYS = [new]  # the old key dropped
    assert signs_in(client, coordinator)
    codes = RecoveryCodes(Authenticator.objects.get(user=coordinator, type=Authenticator.Type.RECOVERY_CODES))
    assert len(codes.get_unused_codes()) == django_settings.MFA_RECOVERY_CODE_COUNT

    settings.MFA_ENCRYPTION_KEYS = [old]  # what was rotated no longer opens with the old key
    with pytest.raises(mfa_secrets.UndecryptableSecret):
        mfa_secrets.decrypt(Authenticator.objects.get(user=coordinator, type="totp").data["secret"])


def test_rotation_with_a_missing_key_fails_and_changes_nothing(coalition, settings):
    from django.core.management.base import CommandError

    settings.MFA_ENCRYPTION_KEYS = [new_key()]
    coordinator = factories.CoordinatorFactory(coalition=coalition, totp=False).user
    factories.enrol_totp(coordinator, SECRET)
    before = dict(Authenticator.objects.values_list("pk", "data"))
    settings.MFA_ENCRYPTION_KEYS = [new_key()]
    with pytest.raises(CommandError, match="could not be decrypted"):
        call_command("rotate_mfa_keys")
    assert dict(Authenticator.objects.values_list("pk", "data")) == before


def test_the_demo_coordinators_published_key_still_works(client, coalition):
    """seed_demo enrols the demo coordinator with the key the README publishes (demo.enrol_in_totp),
    through the adapter: stored encrypted, and the codes of an app set up with it sign in."""
    coordinator = factories.CoordinatorFactory(coalition=coalition, totp=False).user
    demo.enrol_in_totp(coordinator)
    demo.enrol_in_totp(coordinator)  # running seed_demo again changes nothing
    stored = Authenticator.objects.get(user=coordinator, type=Authenticator.Type.TOTP).data["secret"]
    assert demo.DEMO_TOTP_SECRET not in stored
    assert signs_in(client, coordinator, demo.DEMO_TOTP_SECRET)


# Invitation tokens ----------------------------------------------------------------------------


def test_an_invitation_token_is_stored_only_as_its_hash_and_its_link_works(client, coalition, member_org, coordinator):
    from coalition import services

    invitation = services.invite(coalition, by=coordinator, email="new@example.org", role="staff",
                                 organisation=member_org)
    token = factories.emailed_invitation_token("new@example.org")
    stored = Invitation.objects.filter(pk=invitation.pk).values()[0]
    assert token not in str(stored)
    assert stored["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert client.get(reverse("invitation_accept", args=[token])).status_code == 200
    # The stored hash is no link.
    assert client.get(reverse("invitation_accept", args=[stored["token_hash"]])).status_code == 404


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    return executor.loader.project_state(targets or executor.loader.graph.leaf_nodes()).apps


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_migration_hashes_pending_invitations_and_encrypts_stored_secrets(client, coalition, member_org):
    person = factories.UserFactory(email="enrolled@example.org")
    old = migrate([("coalition", "0005_organisationrole_coalition")])
    old.get_model("coalition", "Invitation").objects.create(
        coalition_id=coalition.pk, organisation_id=member_org.pk, email="pending@example.org", role="staff",
        language="en", token="token-sent-before-the-upgrade", created_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=3))
    # As allauth stored them before: in clear.
    Authenticator.objects.create(user_id=person.pk, type="totp", data={"secret": SECRET})
    Authenticator.objects.create(user_id=person.pk, type="recovery_codes", data={"seed": "ab" * 40, "used_mask": 0})

    migrate(None)
    invitation = Invitation.objects.get(email="pending@example.org")
    assert invitation.token_hash == hashlib.sha256(b"token-sent-before-the-upgrade").hexdigest()
    page = client.get(reverse("invitation_accept", args=["token-sent-before-the-upgrade"]))
    assert page.status_code == 200 and "pending@example.org" in page.content.decode()
    totp = Authenticator.objects.get(user=person, type="totp")
    recovery = Authenticator.objects.get(user=person, type="recovery_codes")
    assert SECRET not in str(totp.data) and mfa_secrets.decrypt(totp.data["secret"]) == SECRET
    assert "ab" * 40 not in str(recovery.data) and len(RecoveryCodes(recovery).get_unused_codes()) == 10
    assert signs_in(client, person)


# The admin ------------------------------------------------------------------------------------


@pytest.fixture
def operator(client, db):
    admin = factories.UserFactory(is_staff=True, is_superuser=True)
    factories.enrol_totp(admin, SECRET)
    client.force_login(admin)
    return admin


def test_the_admin_shows_no_two_factor_secret_and_cannot_edit_one(client, operator):
    totp = Authenticator.objects.get(user=operator, type=Authenticator.Type.TOTP)
    recovery = Authenticator.objects.get(user=operator, type=Authenticator.Type.RECOVERY_CODES)
    for authenticator in (totp, recovery):
        page = client.get(reverse("admin:mfa_authenticator_change", args=[authenticator.pk]))
        assert page.status_code == 200
        text = page.content.decode()
        assert str(operator) in text
        for value in authenticator.data.values():
            assert value == 0 or str(value) not in text
        assert SECRET not in text and mfa_secrets.decrypt(recovery.data["seed"]) not in text
        assert 'name="data"' not in text
    response = client.post(reverse("admin:mfa_authenticator_change", args=[totp.pk]), {"data": "{}"})
    assert response.status_code == 403
    totp.refresh_from_db()
    assert mfa_secrets.decrypt(totp.data["secret"]) == SECRET


def test_the_admin_shows_no_message_text_nor_invitation_token(client, operator, coalition, member_org, coordinator):
    from coalition import services

    invitation = services.invite(coalition, by=coordinator, email="invited@example.org", role="staff",
                                 organisation=member_org)
    token = factories.emailed_invitation_token("invited@example.org")
    message = OutboundEmail.objects.get(kind="invitation")
    page = client.get(reverse("admin:coalition_outboundemail_change", args=[message.pk])).content.decode()
    assert message.subject in page and "invited@example.org" in page
    assert token not in page and "/invitations/" not in page
    listing = client.get(reverse("admin:coalition_outboundemail_changelist")).content.decode()
    assert token not in listing
    page = client.get(reverse("admin:coalition_invitation_change", args=[invitation.pk])).content.decode()
    assert "invited@example.org" in page
    assert token not in page and invitation.token_hash not in page


# Retention of message texts -------------------------------------------------------------------


def write(coalition=None, **times) -> OutboundEmail:
    row = outbox.enqueue_rendered(kind="test", dedupe_key=f"test:{OutboundEmail.objects.count()}",
                                  recipient="person@example.org", subject="Your link",
                                  text="Follow https://example.org/secret-link/\n",
                                  html="<a href='https://example.org/secret-link/'>link</a>", coalition=coalition)
    OutboundEmail.objects.filter(pk=row.pk).update(headers={"List-Unsubscribe": "<https://example.org/u/x/>"}, **times)
    return OutboundEmail.objects.get(pk=row.pk)


def test_sent_and_given_up_messages_lose_their_text_after_the_retention_period(settings, coalition):
    settings.OUTBOX_BODY_RETENTION_DAYS = 7
    now = timezone.now()
    old_sent = write(sent_at=now - timedelta(days=8))
    old_failed = write(failed_at=now - timedelta(days=8))
    recent_sent = write(sent_at=now - timedelta(days=6))
    recent_failed = write(failed_at=now - timedelta(days=6))
    unsent = write(created_at=now - timedelta(days=30), due_at=now - timedelta(days=30))

    assert tasks.drop_old_email_bodies() == 2
    for row in (old_sent, old_failed):
        row.refresh_from_db()
        assert (row.body_text, row.body_html, row.headers) == ("", "", {})
        assert row.subject == "Your link" and row.recipient == "person@example.org"
    for row in (recent_sent, recent_failed, unsent):
        row.refresh_from_db()
        assert "secret-link" in row.body_text and "secret-link" in row.body_html and row.headers
    assert tasks.drop_old_email_bodies() == 0  # idempotent


def test_the_beat_schedule_runs_the_retention_sweep():
    tasks_scheduled = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert "statements.tasks.drop_old_email_bodies" in tasks_scheduled


def test_a_given_up_message_whose_text_was_deleted_is_not_tried_again(client, coalition, coordinator, settings):
    settings.OUTBOX_BODY_RETENTION_DAYS = 7
    row = write(coalition=coalition, failed_at=timezone.now() - timedelta(days=8), attempts=8,
                last_error="SMTPRecipientsRefused: 550")
    outbox.drop_old_bodies()
    client.force_login(coordinator)
    page = client.get(reverse("outbox_problems", args=[coalition.slug])).content.decode()
    assert "Text deleted after the retention period" in page
    assert reverse("outbox_retry", args=[coalition.slug, row.pk]) not in page  # no button
    response = client.post(reverse("outbox_retry", args=[coalition.slug, row.pk]), follow=True)
    assert response.status_code == 200
    assert "it cannot be sent again" in response.content.decode()
    row.refresh_from_db()
    assert row.failed_at and not row.sent_at


def test_a_message_retried_within_the_retention_period_keeps_its_text_until_sent_plus_retention(
    client, coalition, coordinator, settings, django_capture_on_commit_callbacks
):
    settings.OUTBOX_BODY_RETENTION_DAYS = 7
    row = write(coalition=coalition, failed_at=timezone.now() - timedelta(days=6), attempts=8)
    client.force_login(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("outbox_retry", args=[coalition.slug, row.pk]))
    row.refresh_from_db()
    assert row.sent_at and "secret-link" in row.body_text
    outbox.drop_old_bodies(now=timezone.now() + timedelta(days=6))
    row.refresh_from_db()
    assert "secret-link" in row.body_text
    outbox.drop_old_bodies(now=timezone.now() + timedelta(days=8))
    row.refresh_from_db()
    assert row.body_text == ""
