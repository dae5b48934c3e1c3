"""A campaign's public doors: the preview image link previews show, the embed page other sites
frame, and the coordinators' list of the sites that may frame it (statements/campaign.py)."""

import hashlib
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from coalition import origins, permissions, services
from coalition.actions import ActionView
from coalition.caching import cache_public_page
from coalition.models import Coalition

from .. import campaign
from .common import shown_revision, visible_statement

LANGUAGES = dict(settings.LANGUAGES)
PREVIEW_KEPT = 7 * 24 * 60 * 60


def _public_statement(request, slug: str):
    """The statement if the public may read it (published, or open to individuals), else 404: the
    preview and embed pages are for everyone, never for a draft a signed-in member could see."""
    statement = visible_statement(request, slug)
    if not (statement.is_public or campaign.is_campaign(statement)):
        raise Http404
    return statement


def _preview_line(statement, count_step: int) -> str:
    if statement.is_public:
        return _("Published %(date)s") % {"date": formats.date_format(statement.published_at, "j E Y")}
    if not count_step:
        return _("Open for signature")
    return ngettext("%(count)s+ signature", "%(count)s+ signatures", count_step) % {"count": f"{count_step:,}"}


@require_GET
def preview_image(request, slug: str, language: str):
    """The statement's picture for link previews (og:image), 1200×630 PNG, in `language`: made
    once per text, language and step of the signature count (`campaign.count_step`), then kept."""
    if language not in LANGUAGES:
        raise Http404
    statement = _public_statement(request, slug)
    revision = shown_revision(statement, language)
    step = 0 if statement.is_public else campaign.count_step(campaign.signature_count(statement))
    with translation.override(language):
        coalition, line = statement.coalition.display_name, _preview_line(statement, step)
    site = urlsplit(settings.SITE_URL).netloc
    made_of = "\n".join([revision.title, coalition, line, site])
    key = f"statement-preview:v1:{statement.pk}:{language}:{hashlib.sha256(made_of.encode()).hexdigest()}"
    png = cache.get(key)
    if png is None:
        png = campaign.preview_png(title=revision.title, coalition=coalition, line=line, site=site)
        cache.set(key, png, PREVIEW_KEPT)
    response = HttpResponse(png, content_type="image/png")
    # Link previews are fetched once and kept by the services; a day for a published statement,
    # ten minutes while the count may still pass a step.
    response["Cache-Control"] = f"public, max-age={86400 if statement.is_public else 600}"
    return response


@cache_public_page
@require_GET
def embed(request, slug: str):
    """A small page for other sites to frame: the title, the count, the deadline and a button to
    sign (in a new tab: the form needs the site's own cookies). Only the origins the coalition
    lists may frame it (CSP frame-ancestors); X-Frame-Options, DENY elsewhere, is left off here."""
    statement = _public_statement(request, slug)
    revision = shown_revision(statement, translation.get_language())
    response = render(request, "statements/embed.html", {
        "statement": statement, "revision": revision, "count": campaign.signature_count(statement),
        "open": campaign.is_campaign(statement)})
    response._csp_replace = {"frame-ancestors": ["'self'", *statement.coalition.embed_origins]}
    response.xframe_options_exempt = True
    return response


class EmbedOriginsForm(forms.Form):
    origins = forms.CharField(
        label=gettext_lazy("Sites that may embed the coalition’s statements"), required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("One origin a line, such as https://example.org: a scheme and a host (and a port if "
                               "any), nothing after. https only, except localhost."))

    def clean_origins(self) -> list[str]:
        return origins.clean_origins(self.cleaned_data["origins"])


class CoalitionEmbedding(LoginRequiredMixin, ActionView):
    """Coordinators list the sites that may frame their statements' embed pages."""

    http_method_names = ["get", "head", "post", "options"]
    form_class = EmbedOriginsForm
    success_message = gettext_lazy("The list of sites that may embed statements is saved.")

    def check(self, request):
        self.coalition = get_object_or_404(Coalition, slug=self.kwargs["slug"])
        if not permissions.is_coordinator(request.user, self.coalition):
            raise Http404

    def get_form_kwargs(self):
        # A POST with no fields is an unbound form: the page again, 400.
        return {"data": self.request.POST or None, "initial": {"origins": "\n".join(self.coalition.embed_origins)}}

    def perform(self, form):
        services.set_embed_origins(self.coalition, form.cleaned_data["origins"], by=self.request.user)

    def back_url(self):
        return reverse("coalition_embedding", args=[self.coalition.slug])

    def render_again(self, form, status):
        return render(self.request, "statements/embedding.html", {"coalition": self.coalition, "form": form},
                      status=status)
