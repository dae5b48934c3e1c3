"""Recompute the archive's search terms (statements.search) of every revision, or of those made
by an older version of the rules (--stale)."""

from django.core.management.base import BaseCommand

from statements import search
from statements.models import Revision


class Command(BaseCommand):
    help = "Recompute the search terms of every revision (or, with --stale, of those out of date)."

    def add_arguments(self, parser):
        parser.add_argument("--stale", action="store_true",
                            help="only revisions never indexed or indexed by an older version")

    def handle(self, *args, stale, **options):
        count = search.rebuild(Revision.objects.order_by("pk"), stale_only=stale)
        self.stdout.write(f"Indexed {count} revision(s) for search.")
