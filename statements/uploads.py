"""The size of uploaded files, enforced before and while the body is read.

Django's DATA_UPLOAD_MAX_MEMORY_SIZE leaves files out, and FILE_UPLOAD_MAX_MEMORY_SIZE only
decides where a file is kept: without this, a 300 MB upload to /verify/ is read whole before the
form refuses it. The middleware refuses a body whose Content-Length is over the limit (413)
without reading it; Django never reads past Content-Length, and the upload handler stops keeping
a file's data once it passes VERIFY_MAX_UPLOAD_BYTES, so the form refuses it by its size.
"""

from io import BytesIO

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpResponse
from django.template import loader
from django.utils.translation import gettext as _

# Room for the form's other fields and the multipart headers around the file.
FORM_OVERHEAD_BYTES = 64 * 1024


def too_large_message() -> str:
    return _("The file is too large: we check files up to %(mb)d MB.") % {
        "mb": settings.VERIFY_MAX_UPLOAD_BYTES // (1024 * 1024)}


class UploadLimitMiddleware:
    """A request body longer than any form here takes (the largest file /verify/ checks, and the
    form around it) is answered 413 before it is read. Goes before any middleware that reads
    `request.POST`; the upload handler it installs keeps no more of a file than the limit."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads nothing of a body whose length it cannot read
        if length > settings.VERIFY_MAX_UPLOAD_BYTES + FORM_OVERHEAD_BYTES:
            body = loader.render_to_string("plain_error.html", {
                "title": _("The file is too large"), "text": too_large_message()})
            return HttpResponse(body, status=413)
        request.upload_handlers.insert(0, SizeLimitUploadHandler(request))
        return self.get_response(request)


class SizeLimitUploadHandler(FileUploadHandler):
    """Passes a file's data on to Django's own handlers up to VERIFY_MAX_UPLOAD_BYTES, then only
    counts it: the file is then an empty one of the size received, which the form refuses."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        return raw_data if self.received <= settings.VERIFY_MAX_UPLOAD_BYTES else None

    def file_complete(self, file_size):
        if self.received <= settings.VERIFY_MAX_UPLOAD_BYTES:
            return None  # kept by the handlers after this one
        return UploadedFile(BytesIO(), name=self.file_name, content_type=self.content_type, size=self.received)
