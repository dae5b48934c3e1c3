"""/transparency/: every public issue's anchor of the audit log (statements/anchors.py), as a page
and as JSON (`?format=json`, or a request that prefers `application/json`), so that others can
archive them and later hold the log to them."""

from django.conf import settings
from django.http import JsonResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language
from django.views.generic import ListView

from .. import anchors, selectors


class TransparencyView(ListView):
    """Newest release first, 50 to a page; a page number that is not a number, or past the end,
    shows the nearest page. Not in the public page cache: one address answers two formats."""

    template_name = "statements/transparency.html"
    context_object_name = "anchors"
    paginate_by = 50

    def get_queryset(self):
        return anchors.public()

    def paginate_queryset(self, queryset, page_size):
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get("page"))
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if not self.wants_json():  # statements named in the reader's language; the JSON keeps the originals
            context["anchors"] = selectors.issue_texts(context["anchors"], get_language())
        return context

    def wants_json(self) -> bool:
        return (self.request.GET.get("format") == "json"
                or self.request.get_preferred_type(["text/html", "application/json"]) == "application/json")

    def render_to_response(self, context, **response_kwargs):
        response = self.json(context["page_obj"]) if self.wants_json() else super().render_to_response(
            context, **response_kwargs)
        patch_vary_headers(response, ["Accept"])
        return response

    def json(self, page) -> JsonResponse:
        def page_url(number):
            return f"{settings.SITE_URL}{reverse('transparency')}?format=json&page={number}"

        return JsonResponse({
            "count": page.paginator.count,
            "page": page.number,
            "pages": page.paginator.num_pages,
            "next": page_url(page.next_page_number()) if page.has_next() else None,
            "previous": page_url(page.previous_page_number()) if page.has_previous() else None,
            "results": [anchors.as_json(publication) for publication in page.object_list],
        }, json_dumps_params={"ensure_ascii": False, "indent": 1})
