"""A signed-in person's own settings kept on their account: their time zone."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _

from . import services, time_zones
from .actions import ActionView
from .forms import TimeZoneForm


class TimeZoneView(LoginRequiredMixin, ActionView):
    """A person chooses their own time zone; the site's zone (Kyiv) is always shown as well."""

    http_method_names = ["get", "head", "post", "options"]
    form_class = TimeZoneForm
    success_url = reverse_lazy("account_time_zone")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "initial": {"time_zone": self.request.user.time_zone}}

    def perform(self, form):
        chosen = form.cleaned_data["time_zone"]
        services.set_time_zone(self.request.user, time_zone=chosen)
        return chosen

    def get_success_message(self, chosen):
        if self.request.user.time_zone:
            return _("Saved: times are shown in %(site_zone)s and in your time zone, %(zone)s.") % {
                "site_zone": time_zones.site_zone_name(), "zone": time_zones.zone_label(chosen)}
        return _("Saved: times are shown in %(site_zone)s.") % {"site_zone": time_zones.site_zone_name()}

    def render_again(self, form, status):
        return render(self.request, "account/time_zone.html", {"form": form, "now": timezone.now()}, status=status)
