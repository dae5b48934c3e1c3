"""The public archive: the front page, /statements/ (search, filters, pages) and each
organisation's page with the statements it signed."""

from django.conf import settings
from django.utils.decorators import method_decorator
from django.utils.translation import get_language
from django.views.generic import DetailView, ListView

from coalition.caching import cache_public_page, page_also_depends_on
from coalition.models import Coalition, Organisation

from .. import caching, campaign, selectors
from ..forms import ArchiveSearchForm


@method_decorator(cache_public_page, name="dispatch")
class ArchiveView(ListView):
    """Published statements, newest first, searched and filtered by the query string; a page
    number that is not a number, or past the end, shows the nearest page rather than an error."""

    template_name = "statements/statement_list.html"
    context_object_name = "statements"
    paginate_by = 20
    front_page = False

    def get_queryset(self):
        page_also_depends_on(self.request, caching.CAMPAIGNS, caching.CAMPAIGN_COUNTS)
        self.form = ArchiveSearchForm(self.request.GET or None, organisations=selectors.signing_organisations(),
                                      years=selectors.archive_years())
        self.filters = self.form.filters() if self.form.is_bound else selectors.ArchiveFilters()
        # ?status=open: only the statements open for signature; ?status=published: only the published.
        self.status = self.request.GET.get("status") if self.request.GET.get("status") in ("open", "published") else ""
        published = selectors.search_archive(self.filters)
        return published.none() if self.status == "open" else published

    def paginate_queryset(self, queryset, page_size):
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get("page"))
        return paginator, page, page.object_list, page.has_other_pages()

    def open_statements(self, filtered: bool, page) -> list:
        """Statements open to anyone's signature, above the published ones: on the first page of
        the unfiltered list (and of ?status=open, which shows them alone)."""
        if filtered or page.number > 1 or self.status == "published":
            return []
        return selectors.reader_texts(campaign.open_to_individuals(), get_language())

    def get_context_data(self, **kwargs):
        filtered = any([self.filters.q, self.filters.organisation, self.filters.year, self.filters.language])
        context = super().get_context_data(form=self.form, filtered=filtered, front_page=self.front_page, **kwargs)
        # Each statement's title and summary in the reader's language, where a current translation exists.
        context["statements"] = context["object_list"] = selectors.reader_texts(context["object_list"], get_language())
        if self.filters.q:  # where the words were found, marked
            selectors.snippets(context["statements"], self.filters.q, get_language())
        context["open_statements"] = self.open_statements(filtered, context["page_obj"])
        context["status"] = self.status
        if self.front_page:
            context["coalitions"] = Coalition.objects.order_by("name")
        context["canonical_url"] = settings.SITE_URL + self.request.path
        return context


@method_decorator(cache_public_page, name="dispatch")
class OrganisationDetailView(DetailView):
    """An organisation's public page: the coalitions it belongs to and the statements it signed."""

    model = Organisation
    template_name = "coalition/organisation_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["memberships"] = self.object.memberships.current().select_related("coalition")
        context["statements"] = selectors.reader_texts(selectors.signed_by(self.object), get_language())
        return context
