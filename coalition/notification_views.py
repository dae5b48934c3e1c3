"""Which email a person gets: the unsubscribe link in bulk messages and the preferences page."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django.views.generic import FormView

from . import services
from .forms import NotificationPreferencesForm
from .models import EmailOptOut
from .unsubscribe import BULK_KINDS, BadToken, opted_out_kinds, read_token


# Mail programs post RFC 8058's one-click unsubscribe ("List-Unsubscribe=One-Click") without a
# session or a CSRF token; the signed token in the address is what authorises it. A GET only shows
# the question and a button, because mail scanners follow links.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    try:
        email, kind = read_token(token)
    except BadToken:
        return render(request, "coalition/unsubscribe.html", {"invalid": True}, status=400)
    context = {"email": email, "kind": EmailOptOut.Kind(kind).label, "done": request.method == "POST"}
    if request.method == "POST":
        services.unsubscribe(email, kind=kind)
    return render(request, "coalition/unsubscribe.html", context)


class NotificationPreferencesView(LoginRequiredMixin, FormView):
    """A signed-in person chooses the kinds of bulk message they get."""

    form_class = NotificationPreferencesForm
    template_name = "account/notification_preferences.html"
    success_url = reverse_lazy("notification_preferences")

    def get_initial(self):
        return {"receive": sorted(BULK_KINDS - opted_out_kinds(self.request.user.email))}

    def form_valid(self, form):
        services.set_notification_preferences(self.request.user, receive=set(form.cleaned_data["receive"]))
        messages.success(self.request, _("Your email preferences are saved."))
        return super().form_valid(form)

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)
