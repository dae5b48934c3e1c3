from django.core.management.base import BaseCommand, CommandError

from coalition import audit


class Command(BaseCommand):
    help = ("Walk the audit log's hash chain and report the first broken link, if any; then check it "
            "against every anchor (the chain's head printed in each published PDF) and report the "
            "events missing after an anchor. Exits non-zero when anything is wrong.")

    def handle(self, *args, **options):
        report = audit.verify()
        anchors = f"{report.anchors} anchors and expected events checked"
        if report.intact:
            self.stdout.write(self.style.SUCCESS(f"chain intact, {report.count} events; {anchors}"))
            return
        problems = []
        if report.broken_event_id is not None:
            problems.append(f"chain broken at event {report.broken_event_id}: {report.reason} "
                            f"({report.count} events before it are intact)")
        else:
            problems.append(f"no broken link in the chain ({report.count} events), but it does not match "
                            f"what was recorded outside it ({anchors}):")
        problems += [f"- {finding.describe()}" for finding in report.findings]
        raise CommandError("\n".join(problems))
