"""One live signature per person, not per spelling of an address: `email_canonical` holds the
address as `coalition.addresses.canonical_email` gives it (lowercased; `+tags`, and Gmail's dots,
removed where the provider delivers them to one mailbox), and the constraint counts it instead of
the lowercased address.

The backfill fills every individual signature. Where two live signatures on one statement turn
out to be one person's (made before this change through `+tags`), the earlier one gets the
canonical address and each later one keeps its lowercased address, so the constraint holds and
no signature is removed (those of published statements never change). On PostgreSQL the trigger
that freezes published signatures lets the backfill set the new column and nothing else, then
allows it to change only when the address is erased, with the other erasable fields."""

from django.db import migrations, models

from coalition.addresses import canonical_email

ERASABLE_0009 = "ARRAY['email', 'email_sha256', 'erased_at', 'token_hash', 'token_expires_at']"
ERASABLE_NOW = "ARRAY['email', 'email_canonical', 'email_sha256', 'erased_at', 'token_hash', 'token_expires_at']"

FUNCTION = """
CREATE OR REPLACE FUNCTION statements_signature_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    erasable text[] := %(erasable)s;
BEGIN
    IF EXISTS (SELECT 1 FROM statements_publication WHERE statement_id = OLD.statement_id)
       OR EXISTS (SELECT 1 FROM statements_statement WHERE id = OLD.statement_id AND status = 'published') THEN
        IF TG_OP = 'UPDATE' AND NEW.email = '' AND NEW.erased_at IS NOT NULL AND NEW.token_hash = ''
           AND (to_jsonb(NEW) - erasable) IS NOT DISTINCT FROM (to_jsonb(OLD) - erasable) THEN
            RETURN NEW;
        END IF;%(backfill)s
        PERFORM statements_refuse('signature ' || OLD.id);
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
"""
# While the backfill runs: a change of `email_canonical` alone goes through.
BACKFILL_ONLY = """
        IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - 'email_canonical') IS NOT DISTINCT FROM (to_jsonb(OLD) - 'email_canonical') THEN
            RETURN NEW;
        END IF;"""


def _function(erasable: str, backfill: str = "") -> str:
    return FUNCTION % {"erasable": erasable, "backfill": backfill}


def _execute(schema_editor, sql: str) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(sql, params=None)  # the SQL holds literal % signs


def backfill(apps, schema_editor):
    Signature = apps.get_model("statements", "Signature")
    _execute(schema_editor, _function(ERASABLE_NOW, BACKFILL_ONLY))
    rows = (Signature.objects.filter(kind="individual").exclude(email="")
            .order_by("statement_id", "created_at", "id").only("pk", "statement_id", "email", "withdrawn_at", "erased_at"))
    taken, batch = set(), []
    for signature in rows.iterator(chunk_size=2000):
        value = canonical_email(signature.email)
        if signature.withdrawn_at is None and signature.erased_at is None:
            if (signature.statement_id, value) in taken:  # one person's earlier signature holds it
                value = signature.email.strip().lower()
            taken.add((signature.statement_id, value))
        signature.email_canonical = value
        batch.append(signature)
        if len(batch) >= 1000:
            Signature.objects.bulk_update(batch, ["email_canonical"])
            batch = []
    if batch:
        Signature.objects.bulk_update(batch, ["email_canonical"])
    _execute(schema_editor, _function(ERASABLE_NOW))


def restore_function(apps, schema_editor):
    _execute(schema_editor, _function(ERASABLE_0009))


class Migration(migrations.Migration):

    dependencies = [
        ('statements', '0013_publication_pdf_path_length'),
    ]

    operations = [
        migrations.AddField(
            model_name='signature',
            name='email_canonical',
            field=models.CharField(blank=True, editable=False, max_length=254, verbose_name='canonical email address'),
        ),
        migrations.RunPython(backfill, restore_function),
        migrations.RemoveConstraint(
            model_name='signature',
            name='one_live_signature_per_email',
        ),
        migrations.AddConstraint(
            model_name='signature',
            constraint=models.UniqueConstraint(condition=models.Q(('erased_at__isnull', True), ('kind', 'individual'), ('withdrawn_at__isnull', True)), fields=('statement', 'email_canonical'), name='one_live_signature_per_person'),
        ),
    ]
