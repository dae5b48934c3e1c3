"""Publications on S3-compatible object storage: a real S3 server (moto's standalone server, started
here) holds the PDFs; the site streams them from the bucket, /verify/ reads them back, and two web
processes with local folders of their own both serve every PDF."""

import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import boto3
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from statements import services
from statements.services import cosigning
from statements.models import Publication

from . import factories
from . import conftest
from .helpers import closed_statement, publish

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[1]
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "coalition-test", "AWS_SECRET_ACCESS_KEY": "coalition-test-secret",
               "AWS_S3_REGION_NAME": "eu-central-1"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_answering(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2).close()  # noqa: S310 (a loopback URL of ours)
            return
        except urllib.error.HTTPError:
            return  # it answers, if not with 200
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory):
    """moto's standalone S3 server on a free loopback port, for this module's tests."""
    port = free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_answering(url, process)
        yield url
    finally:
        stop(process)
        log.close()


@pytest.fixture
def bucket(s3_endpoint):
    """A new, empty bucket of this test's own, and a client to look into it."""
    name = f"statements-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=CREDENTIALS["AWS_S3_REGION_NAME"],
                          aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
    client.create_bucket(Bucket=name, CreateBucketConfiguration={
        "LocationConstraint": CREDENTIALS["AWS_S3_REGION_NAME"]})
    client.name, client.endpoint = name, s3_endpoint
    return client


def storage_env(bucket) -> dict:
    """The environment a deployment sets to keep its files in the bucket (docs/deploy.md)."""
    return {"STORAGE_S3_BUCKET": bucket.name, "AWS_S3_ENDPOINT_URL": bucket.endpoint,
            "AWS_S3_ADDRESSING_STYLE": "path", **CREDENTIALS}


def settings_in_a_new_process(env: dict) -> dict:
    code = ("import django, json; django.setup(); from django.conf import settings; "
            "print(json.dumps({'storage': settings.STORAGES['default'], "
            "'redirect': settings.STORAGE_S3_REDIRECT}))")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STORAGE_S3_"))}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**clean, "DJANGO_SETTINGS_MODULE": "coalition.settings", **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def s3_settings(settings, bucket, tmp_path, monkeypatch):
    """This process configured as settings.py configures it from `storage_env`; MEDIA_ROOT is an
    empty folder that must stay empty."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)  # boto3 reads the keys where settings.py leaves them unset
    configured = settings_in_a_new_process(storage_env(bucket))
    settings.STORAGES = {**settings.STORAGES, "default": configured["storage"]}
    settings.STORAGE_S3_REDIRECT = False
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def stored_object(bucket, key: str) -> bytes:
    return bucket.get_object(Bucket=bucket.name, Key=key)["Body"].read()


# Settings ------------------------------------------------------------------------------------------


def test_without_a_bucket_files_stay_in_the_local_folder():
    assert settings_in_a_new_process({})["storage"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def test_a_bucket_in_the_environment_sends_files_to_s3_privately():
    env = {"AWS_STORAGE_BUCKET_NAME": "coalition-pdfs", "AWS_S3_ENDPOINT_URL": "https://fsn1.your-objectstorage.com",
           "AWS_S3_REGION_NAME": "fsn1", "AWS_S3_ADDRESSING_STYLE": "virtual", "AWS_LOCATION": "statements/"}
    configured = settings_in_a_new_process(env)
    storage = configured["storage"]
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    options = storage["OPTIONS"]
    assert options["bucket_name"] == "coalition-pdfs" and options["default_acl"] == "private"
    assert options["endpoint_url"] == "https://fsn1.your-objectstorage.com" and options["region_name"] == "fsn1"
    assert options["addressing_style"] == "virtual" and options["location"] == "statements"
    assert options["file_overwrite"] is False and options["querystring_auth"] is True
    assert "access_key" not in options  # boto3's own chain (an instance role) when no key is given
    assert configured["redirect"] is False


# One process: publishing, downloading and verifying through the bucket ---------------------------


@pytest.fixture
def published(s3_settings, coalition, coordinator, signer, member_org, django_capture_on_commit_callbacks):
    statement = closed_statement(coalition, coordinator, signer, member_org)
    return publish(statement, coordinator, django_capture_on_commit_callbacks)


@pytest.mark.slow
def test_publishing_stores_the_signed_pdf_in_the_bucket_privately_and_nothing_on_disk(published, bucket, settings):
    assert published.state == Publication.State.READY
    key = f"publications/{published.statement.slug}/issue-1.pdf"
    assert published.pdf.name == key
    assert hashlib.sha256(stored_object(bucket, key)).hexdigest() == published.sha256
    head = bucket.head_object(Bucket=bucket.name, Key=key)
    assert head["ContentType"] == "application/pdf"
    grants = bucket.get_object_acl(Bucket=bucket.name, Key=key)["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]  # the owner only
    assert all("AllUsers" not in grant["Grantee"].get("URI", "") for grant in grants)
    assert files_under(Path(settings.MEDIA_ROOT)) == []


def test_the_pdf_link_streams_the_file_from_the_bucket_as_a_named_pdf(published, client):
    response = client.get(reverse("statement_pdf", args=[published.statement.slug]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="{published.file_name}"'
    body = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(body)
    assert hashlib.sha256(body).hexdigest() == published.sha256


def test_verify_by_sha256_reads_the_stored_file_back_from_the_bucket(published, bucket, client):
    page = client.get(reverse("verify"), {"sha256": published.sha256}).content.decode()
    assert "Authentic" in page and "the signature is intact" in page
    # A file changed in the bucket behind the site's back is not vouched for.
    data = bytearray(stored_object(bucket, published.pdf.name))
    data[len(data) // 3] ^= 0x01
    bucket.put_object(Bucket=bucket.name, Key=published.pdf.name, Body=bytes(data))
    page = client.get(reverse("verify"), {"sha256": published.sha256}).content.decode()
    assert "the signature is intact" not in page and "Authentic: a statement we published" not in page


def test_a_pdf_gone_from_the_bucket_answers_503_with_a_message_not_500(published, bucket, client):
    bucket.delete_object(Bucket=bucket.name, Key=published.pdf.name)
    response = client.get(reverse("statement_pdf", args=[published.statement.slug]))
    assert response.status_code == 503
    assert "cannot be read just now" in response.content.decode()
    page = client.get(published.statement.get_absolute_url())
    assert page.status_code == 200


def test_a_deployment_may_send_readers_to_a_signed_expiring_bucket_url(published, settings, client):
    settings.STORAGE_S3_REDIRECT = True
    response = client.get(reverse("statement_pdf", args=[published.statement.slug]))
    assert response.status_code == 302
    location = response["Location"]
    assert "X-Amz-Signature=" in location and "X-Amz-Expires=" in location
    assert "no-store" in response["Cache-Control"]
    with urllib.request.urlopen(location, timeout=10) as served:  # noqa: S310 (the test's own server)
        assert served.headers["Content-Type"] == "application/pdf"
        assert published.file_name in served.headers["Content-Disposition"]
        assert hashlib.sha256(served.read()).hexdigest() == published.sha256
    # Without the signature the object is refused: the bucket stays private.
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(location.split("?")[0], timeout=10)  # noqa: S310
    assert refused.value.code == 403


# Moving a deployment's existing files into the bucket -------------------------------------------


def test_copy_media_to_storage_moves_published_pdfs_from_the_old_folder_into_the_bucket(
    settings, bucket, s3_settings, tmp_path, client, coalition, coordinator, signer, member_org,
    django_capture_on_commit_callbacks,
):
    old_media = tmp_path / "old-media"
    bucket_storage = settings.STORAGES["default"]
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    settings.MEDIA_ROOT = old_media
    statement = closed_statement(coalition, coordinator, signer, member_org)
    publication = publish(statement, coordinator, django_capture_on_commit_callbacks)
    assert (old_media / publication.pdf.name).is_file()
    settings.STORAGES = {**settings.STORAGES, "default": bucket_storage}  # the deployment switches over
    settings.MEDIA_ROOT = tmp_path / "new-machine"
    assert client.get(reverse("statement_pdf", args=[statement.slug])).status_code == 503

    out = io.StringIO()
    call_command("copy_media_to_storage", source=str(old_media), stdout=out)
    assert f"copying {publication.pdf.name}" in out.getvalue()
    assert hashlib.sha256(stored_object(bucket, publication.pdf.name)).hexdigest() == publication.sha256
    response = client.get(reverse("statement_pdf", args=[statement.slug]))
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == publication.sha256

    out = io.StringIO()
    call_command("copy_media_to_storage", source=str(old_media), stdout=out)  # a second run copies nothing
    assert "0 copied, 1 already in the storage" in out.getvalue()


def test_copy_media_to_storage_names_a_publication_whose_file_it_could_not_find(
    published, bucket, tmp_path,
):
    bucket.delete_object(Bucket=bucket.name, Key=published.pdf.name)
    (tmp_path / "empty").mkdir()
    with pytest.raises(CommandError, match=published.pdf.name):
        call_command("copy_media_to_storage", source=str(tmp_path / "empty"), stdout=io.StringIO())


# Two web processes -------------------------------------------------------------------------------


@pytest.fixture
def web_process(bucket, tmp_path):
    """Start a gunicorn serving the site over the test database and the bucket, with a local
    MEDIA_ROOT of its own; returns its address and that folder."""
    processes = []

    def start(name: str) -> tuple[str, Path]:
        port, media = free_port(), tmp_path / f"media-{name}"
        media.mkdir()
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STORAGE_S3_"))}
        env = {**clean, **storage_env(bucket), "DJANGO_SETTINGS_MODULE": "coalition.settings",
               "DATABASE_URL": conftest.test_database_url(), "MEDIA_ROOT": str(media)}
        log = (tmp_path / f"{name}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "coalition.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--timeout", "60"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        processes.append((process, log))
        url = f"http://127.0.0.1:{port}"
        wait_until_answering(f"{url}/healthz", process)
        return url, media

    yield start
    for process, log in processes:
        stop(process)
        log.close()
        print(f"--- {log.name} ---\n" + Path(log.name).read_text()[-3000:])


@pytest.mark.django_db(transaction=True)
def test_two_web_processes_with_their_own_folders_both_serve_every_pdf_from_the_bucket(
    postgres_database, published, bucket, web_process, settings, coalition, coordinator, signer, member_org,
    django_capture_on_commit_callbacks,
):
    statement = factories.make_statement(coalition, by=coordinator, status="open", title="A second statement")
    cosigning.sign_for_organisation(statement, by=signer, organisation=member_org,
                                    sha256=statement.signed_revision.sha256)
    services.close_signing(statement, by=coordinator)
    statement.refresh_from_db()
    second = publish(statement, coordinator, django_capture_on_commit_callbacks)
    first_web, first_media = web_process("first")
    second_web, second_media = web_process("second")
    for publication in (published, second):
        path = reverse("statement_pdf", args=[publication.statement.slug])
        for web in (first_web, second_web):
            with urllib.request.urlopen(web + path, timeout=30) as served:  # noqa: S310 (loopback)
                assert served.status == 200 and served.headers["Content-Type"] == "application/pdf"
                assert hashlib.sha256(served.read()).hexdigest() == publication.sha256
        assert hashlib.sha256(stored_object(bucket, publication.pdf.name)).hexdigest() == publication.sha256
    assert files_under(first_media) == files_under(second_media) == files_under(Path(settings.MEDIA_ROOT)) == []
