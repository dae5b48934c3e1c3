"""Read-only JSON of the public archive: /api/statements/ (paginated, the archive's filters) and
/api/statements/<slug>/ (one statement with its text, translations, signatories and PDF issues),
/api/statements/<slug>/signatories/ (its individual signatories, paginated)."""

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from coalition import names, params
from coalition.caching import cache_public_page

from . import embedded, selectors
from .caching import page_depends_on
from .forms import ArchiveSearchForm
from .models import Statement

PAGE_SIZE = 50
SIGNATORIES_PAGE_SIZE = 500


def _url(path: str) -> str:
    return settings.SITE_URL + path


def _summary(statement: Statement, reader: selectors.ReaderText) -> dict:
    """`title` and `summary` in the language asked for (`?lang=`) where a current translation
    exists, else the original's; `language` says which, `original_language` the statement's own."""
    return {
        "slug": statement.slug,
        "url": _url(statement.get_absolute_url()),
        "api_url": _url(reverse("api_statement", args=[statement.slug])),
        "title": reader.title,
        "summary": reader.summary,
        "language": reader.language,
        "original_language": statement.primary_language,
        "is_translation": reader.is_translation,
        "coalition": statement.coalition.name,
        "coalition_names": _names(statement.coalition),
        "status": statement.status,
        "published_at": statement.published_at.isoformat() if statement.published_at else None,
        "withdrawn_at": statement.withdrawn_at.isoformat() if statement.withdrawn_at else None,
        "withdrawal_reason": statement.withdrawal_reason if statement.status == Statement.Status.WITHDRAWN else None,
    }


def _names(coalition_or_organisation) -> dict:
    """The name in every language of the site (the original's where a language has none)."""
    return {language: coalition_or_organisation.name_in(language) for language in names.languages()}


def _published_names(entry: dict | None) -> dict | None:
    """An organisation's names in every language as its statement's newest issue froze them."""
    if entry is None:
        return None
    return {language: selectors.frozen_name(entry, language) for language in names.languages()}


def _json(data: dict) -> JsonResponse:
    return JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 1})


@require_GET
@cache_public_page
def statement_list(request):
    """`?q=`, `?organisation=<slug>`, `?year=`, `?lang=` as on /statements/, `?page=N`; with
    `?lang=`, each statement's `title` and `summary` are in that language."""
    preferred = params.language(request.GET.get("lang"))
    form = ArchiveSearchForm(request.GET or None, organisations=selectors.signing_organisations(),
                             years=selectors.archive_years())
    filters = form.filters() if form.is_bound else selectors.ArchiveFilters()
    statements = selectors.search_archive(filters).select_related("signed_revision")
    page = Paginator(statements, PAGE_SIZE).get_page(request.GET.get("page"))

    def page_url(number):
        query = request.GET.copy()
        query["page"] = number
        return _url(f"{reverse('api_statements')}?{query.urlencode()}")

    return _json({
        "count": page.paginator.count,
        "page": page.number,
        "pages": page.paginator.num_pages,
        "next": page_url(page.next_page_number()) if page.has_next() else None,
        "previous": page_url(page.previous_page_number()) if page.has_previous() else None,
        "results": [_summary(statement, statement.reader) for statement in
                    selectors.reader_texts(page.object_list, preferred or "")],
    })


def _revision(revision, *, original: bool) -> dict:
    return {"language": revision.language, "is_original": original, "title": revision.title,
            "summary": revision.summary, "body": revision.body, "body_html": revision.body_html,
            "sha256": revision.sha256}


@require_GET
@cache_public_page
def statement_detail(request, slug):
    statement = selectors.published_statements().select_related("signed_revision").filter(slug=slug).first()
    if statement is None:
        raise Http404
    page_depends_on(request, statement)  # its stored copy follows this statement's versions
    signatories = selectors.signatory_summary(statement, recent=0)
    revision = selectors.public_text(statement)
    # Only translations of the published text, as on the page and in the PDF.
    translations = [t.revision for t in selectors.translations(statement, stale=False)]
    preferred = params.language(request.GET.get("lang"))
    shown = next((t for t in translations if t.language == preferred), revision)
    pdf_url = _url(reverse("statement_pdf", args=[statement.slug]))
    issues = selectors.issues(statement, None)
    statuses = selectors.statuses(statement, [issue.publication for issue in issues])
    return _json({
        **_summary(statement, selectors.ReaderText(shown, revision)),
        "text": _revision(revision, original=True),
        "translations": [_revision(t, original=False) for t in translations],
        # Every language version, the original first.
        "versions": [_revision(v, original=v.pk == revision.pk) for v in [revision, *translations]],
        "signatories": {
            "organisations": [{"name": s.organisation.name, "names": _names(s.organisation), "slug": s.organisation.slug,
                               "url": _url(s.organisation.get_absolute_url()),
                               # As the newest issue was published, which a rename since does not change.
                               "published_names": _published_names(s.published)} for s in signatories.organisations],
            # Individuals can be many: their count here, their names page by page at the link.
            "individual_count": signatories.individual_count,
            "individuals_url": _url(reverse("api_statement_signatories", args=[statement.slug])),
        },
        "publications": [{
            "issue": issue.publication.number,
            "pdf_url": f"{pdf_url}?issue={issue.publication.number}",
            "sha256": issue.publication.sha256,
            "released_at": issue.publication.released_at.isoformat(),
            "superseded": issue.superseded,
            "status": statuses[issue.publication.number].state,
            "superseded_by": statuses[issue.publication.number].superseded_by_number,
            # The list the PDF carries inside it (statements/embedded.py), cached by its SHA-256.
            "embedded_signatories": embedded.carried_signatories(issue.publication),
            "correction_note": issue.publication.correction_note,
        } for issue in issues],
        "verify_url": _url(f"{reverse('verify')}?statement={statement.slug}"),
    })


@require_GET
@cache_public_page
def statement_signatories(request, slug):
    """A published statement's individual signatories in the order they confirmed, 500 to a page
    (`?page=N`; a page that is not a number or past the end gives the nearest, as the list does):
    name and affiliation only."""
    statement = selectors.published_statements().filter(slug=slug).first()
    if statement is None:
        raise Http404
    page_depends_on(request, statement)  # its stored copy follows this statement's versions
    individuals = selectors.individuals_on_signed_text(statement)
    page = Paginator(individuals, SIGNATORIES_PAGE_SIZE).get_page(request.GET.get("page"))

    def page_url(number):
        return _url(f"{reverse('api_statement_signatories', args=[statement.slug])}?page={number}")

    return _json({
        "statement": _url(reverse("api_statement", args=[statement.slug])),
        "count": page.paginator.count,
        "page": page.number,
        "pages": page.paginator.num_pages,
        "next": page_url(page.next_page_number()) if page.has_next() else None,
        "previous": page_url(page.previous_page_number()) if page.has_previous() else None,
        "results": [{"name": s.name, "affiliation": s.affiliation} for s in page.object_list],
    })
