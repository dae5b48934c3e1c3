from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from coalition import demo
from statements.demo import seeders

PRODUCTION_FLAG = "--i-know-this-is-production"


class Command(BaseCommand):
    help = (
        "Create the demo coalition (Ukraine 5AM), its members and the demo users. Safe to run again. "
        "The demo users' passwords and two-factor key are published, so with DEBUG off it refuses "
        f"unless given {PRODUCTION_FLAG}; it never gives roles on organisations it did not make."
    )

    def add_arguments(self, parser):
        parser.add_argument(PRODUCTION_FLAG, action="store_true", dest="i_know_this_is_production",
                            help="Seed even with DEBUG off (a public demo site, never real data).")

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["i_know_this_is_production"]:
            raise CommandError(
                "DEBUG is off: this looks like production. seed_demo makes a superuser and signers "
                "whose password and two-factor key are published in the README; it refuses to. "
                f"For a public demo site with no real data, run it with {PRODUCTION_FLAG}."
            )
        try:
            coalition = demo.seed_membership()
        except demo.NotDemoData as exc:
            raise CommandError(str(exc)) from exc
        users = demo.seed_users(coalition)
        self.stdout.write(self.style.SUCCESS(
            f"{coalition.name}: {coalition.memberships.current().count()} member organisations."
        ))
        self.stdout.write(f"Demo users (password: {demo.DEMO_PASSWORD}):")
        for user in users:
            self.stdout.write(f"  {user.email:<26} {describe(user, coalition)}")
        for user in users:
            if user.coalition_roles.exists():
                self.write_two_factor(user)
        for seed in seeders:  # the statements, signatures and publications
            seed(self.stdout)

    def write_two_factor(self, user):
        self.stdout.write(
            f"Signing in as {user.email} also asks for a code from an authenticator app (TOTP).\n"
            f"  Key (base32): {demo.DEMO_TOTP_SECRET}\n"
            f"  The same as an address apps accept: {demo.totp_uri(user)}\n"
            f"  Recovery codes, each good once: {' '.join(demo.recovery_codes(user))}"
        )


def describe(user, coalition) -> str:
    parts = []
    if user.coalition_roles.filter(coalition=coalition).exists():
        parts.append(f"coordinator of {coalition.name}")
    for role in user.organisation_roles.filter(coalition=coalition).select_related("organisation"):
        parts.append(f"{'may sign' if role.can_sign else 'staff, may not sign'} for {role.organisation.name}")
    return "; ".join(parts) or "no organisation"
