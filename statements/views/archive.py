"""The public archive: the front page and /statements/ (search, filters, pages)."""

from django.conf import settings
from django.utils.decorators import method_decorator
from django.utils.translation import get_language
from django.views.generic import ListView

from coalition.models import Coalition

from .. import selectors
from ..caching import cache_public_page
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
        self.form = ArchiveSearchForm(self.request.GET or None, organisations=selectors.signing_organisations(),
                                      years=selectors.archive_years())
        self.filters = self.form.filters() if self.form.is_bound else selectors.ArchiveFilters()
        return selectors.search_archive(self.filters)

    def paginate_queryset(self, queryset, page_size):
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get("page"))
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        filtered = any([self.filters.q, self.filters.organisation, self.filters.year, self.filters.language])
        context = super().get_context_data(form=self.form, filtered=filtered, front_page=self.front_page, **kwargs)
        # Each statement's title and summary in the reader's language, where a current translation exists.
        context["statements"] = context["object_list"] = selectors.reader_texts(context["object_list"], get_language())
        if self.filters.q:  # where the words were found, marked
            selectors.snippets(context["statements"], self.filters.q, get_language())
        if self.front_page:
            context["coalitions"] = Coalition.objects.order_by("name")
        context["canonical_url"] = settings.SITE_URL + self.request.path
        return context
