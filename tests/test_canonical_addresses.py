"""One person, however they spell their address: `+tags` (and Gmail's dots) where the provider
delivers them to one mailbox count as the same address, for the one live signature per person
(a database constraint) and for the per-address rate limits."""

import importlib
import types

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction
from django.urls import reverse

from coalition.addresses import canonical_email
from coalition.models import OutboundEmail
from statements.models import Signature

from .factories import make_statement

pytestmark = pytest.mark.django_db


@pytest.fixture
def statement(coalition, coordinator):
    return make_statement(coalition, by=coordinator, status="open", allows_individuals=True, title="Free them all")


def sign(client, statement, email, name="Alice Koval"):
    return client.post(reverse("statement_sign", args=[statement.slug]),
                       {"name": name, "affiliation": "", "email": email, "website": ""})


@pytest.mark.parametrize(("address", "canonical"), [
    ("Alice@Example.org", "alice@example.org"),
    ("alice+1@example.org", "alice+1@example.org"),  # an unknown provider may treat + as a mailbox
    ("a.lice@example.org", "a.lice@example.org"),
    ("Alice+petition@Gmail.com", "alice@gmail.com"),
    ("A.L.I.C.E+2@googlemail.com", "alice@gmail.com"),
    ("alice+x@outlook.com", "alice@outlook.com"),
    ("a.lice+x@outlook.com", "a.lice@outlook.com"),  # only Gmail ignores dots
    ("alice+news@proton.me", "alice@proton.me"),
    ("alice+1@icloud.com", "alice@icloud.com"),
    (" alice@fastmail.com ", "alice@fastmail.com"),
])
def test_the_canonical_form_of_an_address(address, canonical):
    assert canonical_email(address) == canonical


def test_plus_tags_of_one_address_sign_once(client, statement):
    answers = [sign(client, statement, email) for email in
               ("alice@gmail.com", "alice+1@gmail.com", "Alice+2@gmail.com", "a.lice@googlemail.com")]
    assert {(a.status_code, a.url) for a in answers} == {(302, reverse("signature_sent", args=[statement.slug]))}
    signature = Signature.objects.get(statement=statement)
    assert (signature.email, signature.email_canonical) == ("alice@gmail.com", "alice@gmail.com")
    # Each later try sent the first address a fresh link (not confirmed yet); none went to the tags.
    assert set(OutboundEmail.objects.filter(kind="signature_confirmation").values_list("recipient", flat=True)) \
        == {"alice@gmail.com"}


def test_the_database_holds_one_live_signature_per_person(statement):
    revision = statement.signed_revision
    Signature.objects.create(statement=statement, revision=revision, sha256=revision.sha256, kind="individual",
                             name="A", email="alice+1@outlook.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        Signature.objects.create(statement=statement, revision=revision, sha256=revision.sha256,
                                 kind="individual", name="A", email="ALICE+2@outlook.com")
    Signature.objects.create(statement=statement, revision=revision, sha256=revision.sha256, kind="individual",
                             name="B", email="alice+1@example.org")  # not an alias: another mailbox
    assert Signature.objects.filter(statement=statement).count() == 2


def test_per_address_limits_count_every_tag_together(client, statement, settings):
    settings.SIGNING_RATE_LIMITS = {"ip": "100/h", "email": "2/h"}
    assert [sign(client, statement, f"bob+{n}@gmail.com").status_code for n in range(2)] == [302, 302]
    assert sign(client, statement, "b.o.b+3@gmail.com").status_code == 429
    assert sign(client, statement, "someone@gmail.com").status_code == 302


def test_erasing_blanks_the_canonical_address_so_the_person_may_sign_again(client, statement):
    from statements.services import privacy

    sign(client, statement, "carol+x@gmail.com")
    privacy.erase_signature(Signature.objects.get(statement=statement), reason="request")
    assert Signature.objects.get(statement=statement).email_canonical == ""
    assert sign(client, statement, "carol@gmail.com").status_code == 302
    assert Signature.objects.filter(statement=statement, erased_at__isnull=True).get().email == "carol@gmail.com"


def test_the_migration_fills_the_column_and_keeps_earlier_signatures_of_one_person(statement):
    """Signatures made before the constraint through `+tags`: the earliest holds the canonical
    address, a later one keeps its own lowercased address, so the constraint can be added and
    nothing is removed."""
    revision = statement.signed_revision
    first = Signature.objects.create(statement=statement, revision=revision, sha256=revision.sha256,
                                     kind="individual", name="D", email="Dana@gmail.com")
    later = Signature.objects.create(statement=statement, revision=revision, sha256=revision.sha256,
                                     kind="individual", name="D", email="placeholder@example.org")
    # As before the column: the address changed under it (update() calls no save()), nothing filled.
    Signature.objects.filter(pk=later.pk).update(email="D.ana+2@gmail.com", email_canonical="not-filled-2")
    Signature.objects.filter(pk=first.pk).update(email_canonical="not-filled-1")
    migration = importlib.import_module("statements.migrations.0014_i4_signature_email_canonical")
    migration.backfill(apps, types.SimpleNamespace(connection=types.SimpleNamespace(vendor="sqlite")))
    assert Signature.objects.get(pk=first.pk).email_canonical == "dana@gmail.com"
    assert Signature.objects.get(pk=later.pk).email_canonical == "d.ana+2@gmail.com"


def test_on_postgresql_the_backfill_passes_the_trigger_and_leaves_published_signatures_frozen(
        client, statement, coordinator, postgres_database):
    from django.db import DatabaseError, connection

    from statements import services

    sign(client, statement, "Erin+news@gmail.com")
    services.close_signing(statement, by=coordinator)
    services.publish(statement, by=coordinator)
    signature = Signature.objects.get(statement=statement)
    migration = importlib.import_module("statements.migrations.0014_i4_signature_email_canonical")
    with connection.schema_editor(atomic=False) as editor:
        migration.backfill(apps, editor)  # rewrites every row, published ones too, through the trigger
    assert Signature.objects.get(pk=signature.pk).email_canonical == "erin@gmail.com"
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Signature._meta.db_table} SET email_canonical = 'x@example.org' WHERE id = %s",
                       [signature.pk])
