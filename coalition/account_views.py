"""A signed-in person's own settings kept on their account: their time zone."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import FormView

from . import services, time_zones
from .forms import TimeZoneForm


class TimeZoneView(LoginRequiredMixin, FormView):
    """A person chooses their own time zone; the site's zone (Kyiv) is always shown as well."""

    form_class = TimeZoneForm
    template_name = "account/time_zone.html"
    success_url = reverse_lazy("account_time_zone")

    def get_context_data(self, **kwargs):
        return super().get_context_data(now=timezone.now(), **kwargs)

    def get_initial(self):
        return {"time_zone": self.request.user.time_zone}

    def form_valid(self, form):
        chosen = form.cleaned_data["time_zone"]
        services.set_time_zone(self.request.user, time_zone=chosen)
        if self.request.user.time_zone:
            text = _("Saved: times are shown in %(site_zone)s and in your time zone, %(zone)s.") % {
                "site_zone": time_zones.site_zone_name(), "zone": time_zones.zone_label(chosen)}
        else:
            text = _("Saved: times are shown in %(site_zone)s.") % {"site_zone": time_zones.site_zone_name()}
        messages.success(self.request, text)
        return super().form_valid(form)

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)
