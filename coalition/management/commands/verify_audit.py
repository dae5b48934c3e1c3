from django.core.management.base import BaseCommand, CommandError

from coalition import audit


class Command(BaseCommand):
    help = "Walk the audit log's hash chain and report the first broken link, if any."

    def handle(self, *args, **options):
        report = audit.verify()
        if report.intact:
            self.stdout.write(self.style.SUCCESS(f"chain intact, {report.count} events"))
            return
        raise CommandError(
            f"chain broken at event {report.broken_event_id}: {report.reason} "
            f"({report.count} events before it are intact)"
        )
