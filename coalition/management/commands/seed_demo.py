from django.core.management.base import BaseCommand

from coalition import demo


class Command(BaseCommand):
    help = "Create the demo coalition (Ukraine 5AM), its members and the demo users. Safe to run again."

    def handle(self, *args, **options):
        coalition = demo.seed_membership()
        users = demo.seed_users(coalition)
        self.stdout.write(self.style.SUCCESS(
            f"{coalition.name}: {coalition.memberships.current().count()} member organisations."
        ))
        self.stdout.write(f"Demo users (password: {demo.DEMO_PASSWORD}):")
        for user in users:
            self.stdout.write(f"  {user.email:<26} {describe(user, coalition)}")
        for extra in self.extra_seeders():
            extra(self.stdout)

    def extra_seeders(self):
        """Later parts of the site add their demo data here (statements, signatures ...)."""
        try:
            from statements.demo import seeders
        except ImportError:
            return []
        return seeders


def describe(user, coalition) -> str:
    parts = []
    if user.coalition_roles.filter(coalition=coalition).exists():
        parts.append(f"coordinator of {coalition.name}")
    for role in user.organisation_roles.select_related("organisation"):
        parts.append(f"{'may sign' if role.can_sign else 'staff, may not sign'} for {role.organisation.name}")
    return "; ".join(parts) or "no organisation"
