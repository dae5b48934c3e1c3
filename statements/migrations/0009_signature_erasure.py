"""Erasing an individual's signature: the address goes, a hash of it stays. On PostgreSQL the
trigger that freezes a published statement's signatures lets exactly that change through (the
address, its hash, the erasure time and the confirmation token; nothing else, and only to blank
the address)."""

import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models

FROZEN_BUT_ERASABLE = """
CREATE OR REPLACE FUNCTION statements_signature_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    erasable text[] := ARRAY['email', 'email_sha256', 'erased_at', 'token_hash', 'token_expires_at'];
BEGIN
    IF EXISTS (SELECT 1 FROM statements_publication WHERE statement_id = OLD.statement_id)
       OR EXISTS (SELECT 1 FROM statements_statement WHERE id = OLD.statement_id AND status = 'published') THEN
        IF TG_OP = 'UPDATE' AND NEW.email = '' AND NEW.erased_at IS NOT NULL AND NEW.token_hash = ''
           AND (to_jsonb(NEW) - erasable) IS NOT DISTINCT FROM (to_jsonb(OLD) - erasable) THEN
            RETURN NEW;
        END IF;
        PERFORM statements_refuse('signature ' || OLD.id);
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
"""

FROZEN = """
CREATE OR REPLACE FUNCTION statements_signature_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM statements_publication WHERE statement_id = OLD.statement_id)
       OR EXISTS (SELECT 1 FROM statements_statement WHERE id = OLD.statement_id AND status = 'published') THEN
        PERFORM statements_refuse('signature ' || OLD.id);
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # the SQL holds literal % signs
    return run


class Migration(migrations.Migration):

    dependencies = [
        ('coalition', '0002_email_opt_out'),
        ('statements', '0008_statement_signatory_order'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='signature',
            name='one_live_signature_per_email',
        ),
        migrations.RemoveConstraint(
            model_name='signature',
            name='signature_is_organisation_or_individual',
        ),
        migrations.AddField(
            model_name='signature',
            name='email_sha256',
            field=models.CharField(blank=True, editable=False, max_length=64, verbose_name='SHA-256 of the email address'),
        ),
        migrations.AddField(
            model_name='signature',
            name='erased_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='erased'),
        ),
        migrations.AddConstraint(
            model_name='signature',
            constraint=models.UniqueConstraint(models.F('statement'), django.db.models.functions.text.Lower('email'), condition=models.Q(('erased_at__isnull', True), ('kind', 'individual'), ('withdrawn_at__isnull', True)), name='one_live_signature_per_email'),
        ),
        migrations.AddConstraint(
            model_name='signature',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'organisation'), ('organisation__isnull', False), ('signed_by__isnull', False)), models.Q(('kind', 'individual'), ('organisation__isnull', True), models.Q(models.Q(models.Q(('name', ''), _negated=True), models.Q(('email', ''), _negated=True)), ('erased_at__isnull', False), _connector='OR')), _connector='OR'), name='signature_is_organisation_or_individual'),
        ),
        migrations.RunPython(_on_postgresql(FROZEN_BUT_ERASABLE), _on_postgresql(FROZEN)),
    ]
