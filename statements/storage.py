"""Where published files live: the local MEDIA_ROOT, or S3-compatible object storage shared by
every machine (STORAGES["default"] in coalition/settings.py). Code reads a file through its
storage (`publication.pdf.open("rb")`), never through a local path, so both work alike."""

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

# What reading a stored file can raise: a missing or unreadable local file, or an object store
# that refuses, is unreachable, or has no such object.
READ_ERRORS: tuple[type[Exception], ...] = (OSError, BotoCoreError, ClientError)


def signed_url(field_file, *, filename: str, content_type: str) -> str | None:
    """A short-lived URL of the file in its bucket, which names the download and its type, when
    STORAGE_S3_REDIRECT asks readers to be sent there; None to stream it from the site itself."""
    if not settings.STORAGE_S3_REDIRECT:
        return None
    disposition = f'inline; filename="{filename}"'
    return field_file.storage.url(field_file.name, parameters={
        "ResponseContentDisposition": disposition, "ResponseContentType": content_type})
