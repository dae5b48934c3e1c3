from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView

from coalition import permissions

from .. import selectors


class DashboardView(LoginRequiredMixin, TemplateView):
    """A signed-in person's work: their drafts, what their organisations may sign, what waits on
    them as coordinator, and their organisations."""

    template_name = "statements/dashboard.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        return super().get_context_data(
            my_drafts=selectors.my_drafts(user)[:50],
            colleagues_drafts=selectors.colleagues_drafts(user)[:50],
            to_sign=selectors.open_for_my_organisations(user)[:50],
            awaiting=selectors.awaiting_coordinators(user)[:100],
            can_start=selectors.member_coalitions(user).exists(),
            organisation_roles=user.organisation_roles.select_related("organisation", "coalition"),
            coordinated=permissions.coordinated_coalitions(user),
            **kwargs,
        )
