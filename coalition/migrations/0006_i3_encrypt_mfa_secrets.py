"""Two-factor secrets stored before now (TOTP keys, recovery-code seeds) are encrypted under the
first of MFA_ENCRYPTION_KEYS (coalition/mfa_secrets.py), as allauth now stores new ones through
coalition.adapters.MFAAdapter. A secret already encrypted is left as it is; reversed, they are
stored in clear again."""

from django.db import migrations


def encrypt(apps, schema_editor):
    from coalition import mfa_secrets

    mfa_secrets.encrypt_all(apps.get_model("mfa", "Authenticator").objects.all())


def decrypt(apps, schema_editor):
    from coalition import mfa_secrets

    mfa_secrets.decrypt_all(apps.get_model("mfa", "Authenticator").objects.all())


class Migration(migrations.Migration):
    dependencies = [
        ("coalition", "0005_organisationrole_coalition"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [migrations.RunPython(encrypt, decrypt)]
