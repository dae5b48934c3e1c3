from allauth.mfa.models import Authenticator
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from coalition import mfa_secrets


class Command(BaseCommand):
    help = ("Re-encrypt every stored two-factor secret (TOTP keys, recovery-code seeds) under the first "
            "key of MFA_ENCRYPTION_KEYS. Run it after putting a new key first; then the old key can be "
            "dropped. Fails, changing nothing, if a secret opens with none of the keys.")

    def handle(self, *args, **options):
        try:
            with transaction.atomic():
                changed = mfa_secrets.rotate(Authenticator.objects.all())
        except mfa_secrets.UndecryptableSecret as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"{changed} authenticator(s) re-encrypted under the first key."))
