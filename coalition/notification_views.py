"""Which email a person gets: the unsubscribe link in bulk messages and the preferences page."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import services
from .actions import ActionView
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


class NotificationPreferencesView(LoginRequiredMixin, ActionView):
    """A signed-in person chooses the kinds of bulk message they get."""

    http_method_names = ["get", "head", "post", "options"]
    form_class = NotificationPreferencesForm
    success_message = gettext_lazy("Your email preferences are saved.")
    success_url = reverse_lazy("notification_preferences")

    def get_form_kwargs(self):
        initial = {"receive": sorted(BULK_KINDS - opted_out_kinds(self.request.user.email))}
        return {**super().get_form_kwargs(), "initial": initial}

    def perform(self, form):
        services.set_notification_preferences(self.request.user, receive=set(form.cleaned_data["receive"]))

    def render_again(self, form, status):
        return render(self.request, "account/notification_preferences.html", {"form": form}, status=status)
