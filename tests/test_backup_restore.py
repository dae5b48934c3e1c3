"""Backup and restore (docs/deploy.md, "Backup and restore"): a `pg_dump -Fc` of the database and a
copy of the media folder, restored into a fresh database and a fresh folder, give a site whose
`verify_audit` passes with every anchor and whose /verify/ calls every published PDF authentic;
`manage.py check_restore` checks the same and names what is missing or changed."""

import json
import os
import shutil
import subprocess
import sys
import uuid
from contextlib import nullcontext
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from coalition.models import AuditEvent
from statements import pdf, services
from statements.services import publishing
from statements.models import Publication

from .conftest import ROOT
from .helpers import append_only_trigger_dropped, closed_statement

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def published_archive(coalition, coordinator, signer, member_org, capture=None) -> list[Publication]:
    """Two statements published: the first corrected (issue 2), the second withdrawn. Every step
    writes audit events, and every issue anchors the log's head. `capture` runs the PDFs' tasks at
    each step's commit (in a test's transaction); without it they run at the real commit."""
    def step():
        return capture(execute=True) if capture else nullcontext()

    first = closed_statement(coalition, coordinator, signer, member_org)
    with step():
        services.publish(first, by=coordinator)
    with step():
        publishing.publish_correction(first, by=coordinator, note="A name was misspelt.")
    second = closed_statement(coalition, coordinator, signer, member_org)
    with step():
        services.publish(second, by=coordinator)
    services.withdraw(second, by=coordinator, reason="The facts in paragraph 2 proved wrong.")
    issues = list(Publication.objects.order_by("pk"))
    assert [p.state for p in issues] == [Publication.State.READY] * 3, [p.failure for p in issues]
    return issues


# The check command, on the test database --------------------------------------------------------


def test_check_restore_passes_on_an_intact_archive_and_says_what_it_checked(
        coalition, coordinator, signer, member_org, django_capture_on_commit_callbacks, capsys):
    published_archive(coalition, coordinator, signer, member_org, django_capture_on_commit_callbacks)
    call_command("check_restore")
    out = capsys.readouterr().out
    assert "3 ready publications checked: 3 authentic, 0 with problems." in out
    assert f"chain intact, {AuditEvent.objects.count()} events; 6 anchors and expected events checked" in out
    assert "every publication and the audit log are intact" in out


def test_a_stored_file_changed_or_missing_is_named_and_fails_the_check(
        coalition, coordinator, signer, member_org, django_capture_on_commit_callbacks, settings):
    first, second, third = published_archive(coalition, coordinator, signer, member_org,
                                             django_capture_on_commit_callbacks)
    changed = Path(settings.MEDIA_ROOT) / second.pdf.name
    data = bytearray(changed.read_bytes())
    data[len(data) // 3] ^= 0x01
    changed.write_bytes(bytes(data))
    (Path(settings.MEDIA_ROOT) / third.pdf.name).unlink()

    with pytest.raises(CommandError) as failure:
        call_command("check_restore")
    message = str(failure.value)
    assert f"issue 2 of {second.statement.slug} ({second.pdf.name}): the file's SHA-256 is " in message
    assert f"but {second.sha256} was published" in message
    assert f"issue 1 of {third.statement.slug} ({third.pdf.name}): the file cannot be read" in message
    assert first.pdf.name not in message


def test_a_broken_audit_chain_fails_the_check(
        coalition, coordinator, signer, member_org, django_capture_on_commit_callbacks):
    published_archive(coalition, coordinator, signer, member_org, django_capture_on_commit_callbacks)
    victim = AuditEvent.objects.get(action="statement.withdrawn")
    with append_only_trigger_dropped():
        AuditEvent.objects.filter(pk=victim.pk).update(data={"reason": "Nothing happened."})
    with pytest.raises(CommandError, match=f"audit log: chain broken at event {victim.pk}: its content does not "
                                           "match its hash"):
        call_command("check_restore")


def test_a_saved_transparency_list_names_publications_the_restore_lacks(
        coalition, coordinator, signer, member_org, django_capture_on_commit_callbacks, client, tmp_path, capsys):
    """A backup older than the last publication: the anchors anyone saved from /transparency/ name
    what the restored site no longer has."""
    published_archive(coalition, coordinator, signer, member_org, django_capture_on_commit_callbacks)
    saved = client.get("/transparency/", {"format": "json"}).json()
    (tmp_path / "now.json").write_text(json.dumps(saved))
    call_command("check_restore", "--transparency", str(tmp_path / "now.json"))
    assert "and 3 saved anchors." in capsys.readouterr().out

    last = AuditEvent.objects.order_by("-pk").first()
    lost = {"statement": "lost-statement", "issue": 1, "pdf_sha256": "ab" * 32,
            "audit_event": last.pk + 5, "audit_hash": "cd" * 32}
    (tmp_path / "later.json").write_text(json.dumps({"results": [lost, *saved["results"]]}))
    with pytest.raises(CommandError) as failure:
        call_command("check_restore", "--transparency", str(tmp_path / "later.json"))
    message = str(failure.value)
    assert f"issue 1 of lost-statement (SHA-256 {'ab' * 32}) was published, but the restored database " in message
    assert f"events {last.pk + 1} to {last.pk + 5} are missing: the chain ends at event {last.pk}" in message


def test_a_file_that_is_not_a_transparency_list_is_refused_with_its_name(db, tmp_path):
    (tmp_path / "x.json").write_text("<html>")
    with pytest.raises(CommandError, match="x.json is not a saved page of /transparency/"):
        call_command("check_restore", "--transparency", str(tmp_path / "x.json"))


# A real dump, restored into a fresh database and folder ----------------------------------------


def _pg(settings_dict: dict) -> tuple[list[str], dict]:
    args = ["-h", settings_dict["HOST"] or "127.0.0.1", "-p", str(settings_dict["PORT"] or 5432),
            "-U", settings_dict["USER"] or "postgres"]
    env = {**os.environ, "PGPASSWORD": settings_dict["PASSWORD"] or os.environ.get("PGPASSWORD", "")}
    return args, env


def _site_env(database: str, media_root: Path, signing_identity, tmp_path: Path) -> dict:
    s = connection.settings_dict
    env = {k: v for k, v in os.environ.items()
           if k not in {"CELERY_BROKER_URL", "REDIS_URL", "REDIS_CACHE_URL", "TEST_DATABASE_NAME"}}
    auth = (s["USER"] or "postgres") + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return env | {
        "DJANGO_SETTINGS_MODULE": "coalition.settings",
        "DATABASE_URL": f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{database}",
        "MEDIA_ROOT": str(media_root), "VAR_DIR": str(tmp_path / "var"),
        # Verification needs only the root certificate; the signing key is not part of the restore.
        "SIGNING_PKCS12_FILE": "", "SIGNING_PKCS11_MODULE": "", "SIGNING_KEY_FILE": "", "SIGNING_CERT_FILE": "",
        "SIGNING_ROOT_CERT_FILE": str(signing_identity.root_cert), "SIGNING_TIMESTAMP_URL": "",
    }


# What the public does with the copies they downloaded before the loss: ask /verify/ of the
# restored site, and download each issue again from it.
VERIFY_SCRIPT = """
import hashlib, json, sys
import django
django.setup()
from django.test import Client
client = Client()
for slug, number, path in json.loads(sys.argv[1]):
    with open(path, "rb") as upload:
        page = client.post("/verify/", {"file": upload})
    download = client.get(f"/statements/{slug}/pdf/", {"issue": number})
    body = b"".join(download.streaming_content) if download.streaming else download.content
    print(json.dumps({"slug": slug, "issue": number, "verify_status": page.status_code,
                      "authentic": "Authentic" in page.content.decode() and f"Issue {number} of" in page.content.decode(),
                      "download_status": download.status_code, "download_sha256": hashlib.sha256(body).hexdigest()}))
"""


def _run(command: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.django_db(transaction=True)
def test_a_dump_and_the_media_folder_restored_into_a_fresh_database_verify_every_pdf_and_the_audit_log(
        postgres_database, coalition, coordinator, signer, member_org, signing_identity, settings, tmp_path):
    issues = published_archive(coalition, coordinator, signer, member_org)
    originals = tmp_path / "downloaded"
    originals.mkdir()
    for p in issues:  # the copies the public keeps
        (originals / f"{p.pk}.pdf").write_bytes(p.pdf.read())

    # Back up: the database first, then the files (a file is written before its issue is marked
    # ready and never changes, so every file the dump names is there when the folder is copied).
    source = connection.settings_dict
    args, pg_env = _pg(source)
    dump = tmp_path / "coalition.dump"
    subprocess.run(["pg_dump", "-Fc", *args, "-d", source["NAME"], "-f", str(dump)], env=pg_env, check=True)
    restored_media = tmp_path / "restored-media"
    shutil.copytree(settings.MEDIA_ROOT, tmp_path / "backup-media")

    fresh = f"restore_{uuid.uuid4().hex[:12]}"
    subprocess.run(["createdb", *args, fresh], env=pg_env, check=True)
    try:
        subprocess.run(["pg_restore", "--exit-on-error", "--no-owner", *args, "-d", fresh, str(dump)],
                       env=pg_env, check=True, capture_output=True)
        shutil.copytree(tmp_path / "backup-media", restored_media)
        site = _site_env(fresh, restored_media, signing_identity, tmp_path)

        audit_check = _run([sys.executable, "manage.py", "verify_audit"], site)
        assert audit_check.returncode == 0, audit_check.stderr
        events = AuditEvent.objects.count()
        assert f"chain intact, {events} events; 6 anchors and expected events checked" in audit_check.stdout

        restore_check = _run([sys.executable, "manage.py", "check_restore"], site)
        assert restore_check.returncode == 0, restore_check.stdout + restore_check.stderr
        assert "3 ready publications checked: 3 authentic, 0 with problems." in restore_check.stdout

        wanted = [[p.statement.slug, p.number, str(originals / f"{p.pk}.pdf")] for p in issues]
        public = _run([sys.executable, "-c", VERIFY_SCRIPT, json.dumps(wanted)], site)
        assert public.returncode == 0, public.stderr
        answers = [json.loads(line) for line in public.stdout.splitlines() if line.startswith("{")]
        assert [(a["slug"], a["issue"]) for a in answers] == [(p.statement.slug, p.number) for p in issues]
        for answer, p in zip(answers, issues, strict=True):
            assert answer["verify_status"] == 200 and answer["authentic"], answer
            assert answer["download_status"] == 200 and answer["download_sha256"] == p.sha256, answer

        # The check reads the restored folder, not the original: a damaged copy there is named.
        damaged = restored_media / issues[0].pdf.name
        damaged.write_bytes(damaged.read_bytes()[:-100])
        failed = _run([sys.executable, "manage.py", "check_restore"], site)
        assert failed.returncode != 0
        assert f"issue 1 of {issues[0].statement.slug} ({issues[0].pdf.name}): the file's SHA-256 is" in failed.stderr
        assert pdf.sha256(originals.joinpath(f"{issues[0].pk}.pdf").read_bytes()) == issues[0].sha256
    finally:
        subprocess.run(["dropdb", "--if-exists", *args, fresh], env=pg_env, check=False)
