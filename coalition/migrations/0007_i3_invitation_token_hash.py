"""An invitation's token is stored as its SHA-256 only, as a signature's link token is: a copy of
the database opens no invitation. Invitations still pending keep working, because the token in
the link already sent hashes to the stored value.

Reversed, the hash takes the token's place: links sent before can then not be accepted (the token
cannot be recovered from its hash); the coordinator sends a new invitation."""

import hashlib

from django.db import migrations, models

import coalition.models


def hash_tokens(apps, schema_editor):
    Invitation = apps.get_model("coalition", "Invitation")
    for invitation in Invitation.objects.only("pk", "token").iterator(chunk_size=1000):
        invitation.token_hash = hashlib.sha256(invitation.token.encode()).hexdigest()
        invitation.save(update_fields=["token_hash"])


def hashes_as_tokens(apps, schema_editor):
    Invitation = apps.get_model("coalition", "Invitation")
    for invitation in Invitation.objects.only("pk", "token_hash").iterator(chunk_size=1000):
        invitation.token = invitation.token_hash
        invitation.save(update_fields=["token"])


class Migration(migrations.Migration):
    dependencies = [("coalition", "0006_i3_encrypt_mfa_secrets")]

    operations = [
        migrations.AddField(
            model_name="invitation",
            name="token_hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        # Not unique while it goes (and, reversed, while it comes back and is filled in row by row).
        migrations.AlterField(
            model_name="invitation",
            name="token",
            field=models.CharField(default=coalition.models.new_invitation_token, editable=False, max_length=64),
        ),
        migrations.RunPython(hash_tokens, hashes_as_tokens),
        migrations.RemoveField(model_name="invitation", name="token"),
        migrations.AlterField(
            model_name="invitation",
            name="token_hash",
            field=models.CharField(editable=False, max_length=64, unique=True),
        ),
    ]
