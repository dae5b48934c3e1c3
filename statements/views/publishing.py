"""Published PDFs: download, correction, retry, and the public verification page."""

import logging

from csp.decorators import csp_exempt
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from coalition import params, permissions, ratelimits

from .. import embedded, pdf_signing, sandbox, selectors, storage
from ..forms import VerifyForm
from ..services import publishing
from ..models import Publication, Statement
from . import review
from .common import StatementAction, visible_statement

log = logging.getLogger(__name__)


def _issue_number(request) -> int | None:
    raw = request.GET.get("issue")
    if raw is None:
        return None
    number = params.positive_int(raw)
    if number is None:
        raise Http404(_("There is no such issue of this statement."))
    return number


@require_GET
def publication_pdf(request, slug):
    """The newest ready issue's PDF (`?issue=N` for another), exactly as signed."""
    statement = visible_statement(request, slug)
    number = _issue_number(request)
    publication = selectors.downloadable(statement, request.user, number)
    if publication is None:
        pending = statement.publications.filter(state=Publication.State.PENDING).exists()
        return render(request, "statements/publication_missing.html",
                      {"statement": statement, "pending": pending and number is None, "number": number}, status=404)
    return _pdf_file(request, publication)


@csp_exempt()
def _pdf_file(request, publication):
    """The PDF itself carries no Content-Security-Policy: Chromium's built-in viewer draws the
    file in a page of its own with inline styles, which the site's policy would refuse."""
    url = storage.signed_url(publication.pdf, filename=publication.file_name, content_type="application/pdf")
    if url:
        response = redirect(url)
        add_never_cache_headers(response)  # the signed URL expires; no cache may keep it
        return response
    try:
        stored = publication.pdf.open("rb")  # from the local folder or the bucket, never a path
    except storage.READ_ERRORS:
        log.exception("The stored PDF of publication %s cannot be read", publication.pk)
        return render(request, "statements/publication_missing.html",
                      {"statement": publication.statement, "unreadable": True}, status=503)
    response = FileResponse(stored, content_type="application/pdf", filename=publication.file_name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


class CorrectStatement(review.ReviewedStep):
    action = "correct"
    success_message = gettext_lazy("The corrected issue is being prepared.")

    def perform(self, form):
        publishing.publish_correction(self.statement, by=self.request.user, note=form.cleaned_data["note"])


class RetryPublication(StatementAction):
    success_message = gettext_lazy("The PDF is being prepared again.")

    def check(self, request):
        super().check(request)
        # Asked before looking the issue up: others learn nothing of which issues exist or failed.
        permissions.require(permissions.can_publish(request.user, self.statement))
        self.publication = get_object_or_404(Publication, statement=self.statement, number=self.kwargs["number"])

    def perform(self, form):
        publishing.retry(self.publication, by=self.request.user)


def _configured() -> bool:
    try:
        pdf_signing.trust_root()
    except pdf_signing.SigningIdentityMissing:
        return False
    return True


def _statement_issues(request):
    slug = params.slug(request.GET.get("statement"))
    if not slug:
        return None, []
    statement = Statement.objects.filter(slug=slug).select_related("current_revision").first()
    if statement is None or not statement.is_public:
        return None, []
    return statement, [i for i in selectors.issues(statement, None) if i.publication.is_public]


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request):
    """Public: is this PDF (or this SHA-256) one we published, which issue, and is its signature
    intact? Also lists a statement's issues with their SHA-256 (`?statement=<slug>`, where the PDF's
    QR code leads), and `?sha256=` answers at once."""
    answer, status = None, 200
    if request.method == "POST":
        form = VerifyForm(request.POST, request.FILES)
    else:
        form = VerifyForm({"sha256": request.GET["sha256"]} if request.GET.get("sha256") else None)
    if form.is_bound:
        if form.is_valid() and not _configured():
            form.add_error(None, _("Verification is not available right now: no certificate is configured."))
            status = 503
        elif form.is_valid():
            answer, status = _verify_answer(request, form)
        else:
            status = 413 if form.has_error("file", "too_large") else 400
    statement, issues = _statement_issues(request)
    try:
        root = pdf_signing.trust_root()
        certificate = {**pdf_signing.describe(root), "words": pdf_signing.subject_in_words(root)}
    except pdf_signing.SigningIdentityMissing:
        certificate = None
    authentic = answer is not None and answer.outcome == publishing.Outcome.AUTHENTIC
    return render(request, "statements/verify.html", {
        "form": form, "answer": answer, "statement": statement, "issues": issues, "root": certificate,
        # An authentic file is byte for byte the issue's stored one: what it lists is cached by hash.
        "carried": embedded.carried_list(answer.publication) if authentic else None,
    }, status=status)


def _verify_answer(request, form):
    """The answer to a valid form and the page's status. Checking an uploaded file's signature
    is CPU-heavy, so uploads are rate-limited per IP (a SHA-256 is only looked up)."""
    upload = form.cleaned_data["file"]
    if not upload:
        return publishing.verify_sha256(form.cleaned_data["sha256"]), 200
    try:
        ratelimits.check_verify_upload(ip=ratelimits.client_ip(request))
    except ratelimits.RateLimited:
        form.add_error(None, _("Too many files were sent for checking from your address. Please try "
                               "again in an hour, or give the file's SHA-256 instead."))
        return None, 429
    try:
        return publishing.verify_file(upload.read()), 200
    except sandbox.TooComplex:
        form.add_error("file", _("This file is too complex to check here: checking it would take more "
                                 "time or memory than we allow. It is not, byte for byte, a PDF we published "
                                 "(those are always checked)."))
        return None, 422


@require_GET
def root_certificate(request):
    """The coalition's root certificate (PEM), to check published PDFs against."""
    response = HttpResponse(pdf_signing.trust_root_pem(), content_type="application/x-pem-file")
    response["Content-Disposition"] = 'attachment; filename="coalition-root.pem"'
    return response


@require_GET
def short_link(request, pk):
    """The short link printed in PDFs: the statement's verification page."""
    statement = get_object_or_404(Statement, pk=pk)
    if not statement.is_public:
        raise Http404
    return redirect(f"{reverse('verify')}?statement={statement.slug}")
