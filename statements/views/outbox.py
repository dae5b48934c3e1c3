"""Email that could not be delivered, for a coalition's coordinators, with a way to try again."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from coalition import outbox, permissions
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


@login_required
@require_POST
def retry_email(request, slug, pk):
    coalition = _coalition_for_outbox(request, slug)
    email = get_object_or_404(OutboundEmail, pk=pk, coalition=coalition)
    try:
        outbox.retry(email, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The message to %(recipient)s will be sent again.") % {"recipient": email.recipient})
    return redirect("outbox_problems", slug=coalition.slug)
