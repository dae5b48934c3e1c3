"""Email that could not be delivered, for a coalition's coordinators, with a way to try again."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from coalition import outbox, permissions
from coalition.actions import ActionView
from coalition.models import Coalition, OutboundEmail


SHOWN = 200


def _coalition_for_outbox(request, slug: str) -> Coalition:
    coalition = get_object_or_404(Coalition, slug=slug)
    permissions.require(permissions.can_view_outbox(request.user, coalition))
    return coalition


class OutboxProblemsView(LoginRequiredMixin, TemplateView):
    """Failed and delayed messages of one coalition."""

    template_name = "statements/outbox_problems.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        coalition = _coalition_for_outbox(self.request, self.kwargs["slug"])
        failed, delayed = list(outbox.failed_for(coalition)[:SHOWN]), list(outbox.delayed_for(coalition)[:SHOWN])
        for email in failed + delayed:
            email.kind_label = outbox.kind_label(email.kind)
        context.update(coalition=coalition, failed=failed, delayed=delayed)
        return context


class RetryEmail(LoginRequiredMixin, ActionView):
    success_message = gettext_lazy("The message to %(recipient)s will be sent again.")

    def check(self, request):
        self.coalition = _coalition_for_outbox(request, self.kwargs["slug"])
        self.email = get_object_or_404(OutboundEmail, pk=self.kwargs["pk"], coalition=self.coalition)

    def perform(self, form):
        outbox.retry(self.email, by=self.request.user)

    def message_values(self, result):
        return {"recipient": self.email.recipient}

    def back_url(self):
        return reverse("outbox_problems", args=[self.coalition.slug])
