"""`manage.py copy_media_to_storage`: copy the files of a local media folder into the configured
storage (an S3 bucket, once STORAGE_S3_BUCKET is set), under the same names, then check that every
ready publication's stored file has the SHA-256 it was published with."""

import hashlib
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError

from statements import storage
from statements.models import Publication


class Command(BaseCommand):
    help = (
        "Copy every file under a local media folder (MEDIA_ROOT unless --source is given) into the "
        "default storage under the same name, skipping files already there with the same size (a "
        "different file of that name is reported, never replaced); then "
        "check every ready publication's stored PDF against its SHA-256. Run it once after setting "
        "STORAGE_S3_BUCKET, from a machine that holds the old MEDIA_ROOT."
    )

    def add_arguments(self, parser):
        parser.add_argument("--source", default=str(settings.MEDIA_ROOT), help="The local folder to copy from.")
        parser.add_argument("--dry-run", action="store_true", help="Say what would be copied; copy nothing.")

    def handle(self, *args, source, dry_run, **options):
        folder = Path(source)
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder.")
        copied = skipped = 0
        conflicts = []
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            name = path.relative_to(folder).as_posix()
            if default_storage.exists(name):
                if default_storage.size(name) == path.stat().st_size:
                    skipped += 1
                else:
                    conflicts.append(name)
                continue
            copied += 1
            self.stdout.write(f"{'would copy' if dry_run else 'copying'} {name}")
            if not dry_run:
                self._copy(path, name)
        self.stdout.write(f"{copied} copied, {skipped} already in the storage.")
        if conflicts:
            raise CommandError("A different file of the same name is already in the storage (left as it is): "
                               + ", ".join(conflicts))
        if not dry_run:
            self._check_publications()

    @staticmethod
    def _copy(path: Path, name: str) -> None:
        with path.open("rb") as local:
            saved = default_storage.save(name, File(local))
        if saved != name:
            raise CommandError(f"The storage saved {name} as {saved}; the database names {name}.")

    def _check_publications(self) -> None:
        bad = []
        for publication in Publication.objects.ready().exclude(pdf="").iterator():
            try:
                with publication.pdf.open("rb") as stored:
                    digest = hashlib.sha256(stored.read()).hexdigest()
            except storage.READ_ERRORS:
                digest = None
            if digest != publication.sha256:
                bad.append(publication.pdf.name)
        if bad:
            raise CommandError("Missing or not as published in the storage: " + ", ".join(bad))
        self.stdout.write("Every ready publication's PDF is in the storage with its published SHA-256.")
