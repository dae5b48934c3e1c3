"""The coalition's look: the coordinators' page that sets its logo and accent colour, and the two
public files made from them, the logo and a small stylesheet (coalition/look.py)."""

import re

from csp.decorators import csp_exempt
from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from . import look, permissions, services
from .actions import ActionView
from .models import Coalition

KEPT_FOR_GOOD = "public, max-age=31536000, immutable"
LOGO_NAME = re.compile(r"^logo-[0-9a-f]{20}$")
# The logo, opened on its own, runs nothing and loads nothing, whatever it holds.
LOGO_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"


class LookForm(forms.Form):
    logo = forms.FileField(
        label=gettext_lazy("Logo"), required=False,
        help_text=gettext_lazy("An SVG or PNG image, at most 512 KB. Scripts and links to other sites are "
                               "removed from an SVG. It is shown on the coalition’s pages, in its emails and "
                               "at the top of its PDFs."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/svg+xml,image/png,.svg,.png"}))
    remove_logo = forms.BooleanField(label=gettext_lazy("Remove the logo"), required=False)
    accent = forms.CharField(
        label=gettext_lazy("Accent colour"), required=False, max_length=20,
        help_text=gettext_lazy("A hex code such as #0b4f8a, for buttons, links and rules. White text on it "
                               "must reach a contrast of 4.5:1. Blank: the site’s blue."))

    def clean_logo(self):
        upload = self.cleaned_data.get("logo")
        return look.clean_logo(upload) if upload else None

    def clean_accent(self) -> str:
        return look.clean_accent(self.cleaned_data["accent"])


def _coordinated(request, slug: str) -> Coalition:
    coalition = get_object_or_404(Coalition, slug=slug)
    permissions.require(permissions.is_coordinator(request.user, coalition))
    return coalition


class CoalitionLook(LoginRequiredMixin, ActionView):
    """Coordinators set their coalition's logo and accent colour; anyone else gets a 403."""

    http_method_names = ["get", "head", "post", "options"]
    form_class = LookForm
    success_message = gettext_lazy("The coalition’s logo and colour are saved.")

    def check(self, request):
        self.coalition = _coordinated(request, self.kwargs["slug"])

    def get_form_kwargs(self):  # a POST with no fields is an unbound form: the page again, 400
        return {"data": self.request.POST or None, "files": self.request.FILES or None,
                "initial": {"accent": self.coalition.accent}}

    def perform(self, form):
        try:
            services.set_look(self.coalition, by=self.request.user, accent=form.cleaned_data["accent"],
                          logo=form.cleaned_data["logo"], remove_logo=form.cleaned_data["remove_logo"])
        except look.STORAGE_ERRORS as error:
            raise ValidationError(_("The logo could not be stored just now; nothing was changed. "
                                    "Try again in a minute.")) from error

    def refused(self, form, exc):  # only the storage can refuse: the page again, 503
        form.add_error("logo", exc)
        return self.render_again(form, status=503)

    def back_url(self):
        return reverse("coalition_look", args=[self.coalition.slug])

    def render_again(self, form, status):
        return render(self.request, "coalition/look.html",
                      {"coalition": self.coalition, "look_coalition": self.coalition, "form": form}, status=status)


@csp_exempt()  # it sets its own, stricter policy
@require_safe
def logo(request, slug: str, name: str, kind: str):
    """A logo file, by its hash-made name: one that was replaced still answers (emails keep it)."""
    coalition = get_object_or_404(Coalition.objects.only("pk"), slug=slug)
    if kind not in look.CONTENT_TYPES or not LOGO_NAME.match(name):
        raise Http404
    stored = f"coalitions/{coalition.pk}/{name}.{kind}"
    try:
        with default_storage.open(stored, "rb") as file:
            data = file.read()
    except (*look.STORAGE_ERRORS, ValueError) as error:
        raise Http404 from error
    response = HttpResponse(data, content_type=look.CONTENT_TYPES[kind])
    response["Cache-Control"] = KEPT_FOR_GOOD
    response["Content-Security-Policy"] = LOGO_CSP
    return response


@require_safe
def look_css(request, slug: str, version: str):
    """The coalition's accent as CSS custom properties, a file of its own so the site's CSP
    (style-src 'self', no inline styles) allows it. Kept for good when `version` is current."""
    coalition = get_object_or_404(Coalition.objects.only("pk", "accent", "logo"), slug=slug)
    css = ""
    if coalition.accent:
        accent = coalition.accent
        css = (f":root {{ --accent: {accent}; --accent-dark: {look.darker(accent, 0.75)}; "
               f"--accent-soft: {look.tint(accent, 0.9)}; }}\n")
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    current = version == coalition.look_version
    response["Cache-Control"] = KEPT_FOR_GOOD if current else "public, max-age=300"
    return response
