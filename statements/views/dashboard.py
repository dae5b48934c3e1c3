from django.contrib.auth.mixins import LoginRequiredMixin
from django.utils.translation import get_language
from django.views.generic import TemplateView

from coalition import permissions

from .. import dashboards, selectors


class DashboardView(LoginRequiredMixin, TemplateView):
    """A signed-in person's work, each item with what to do next: the open statements of their
    organisations (waiting for an answer, or answered), the drafts of their coalitions, and as
    coordinator each open statement's answers and the closed ones to publish."""

    template_name = "statements/dashboard.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        roles = list(user.organisation_roles.select_related("organisation", "coalition"))
        coordinated = list(permissions.coordinated_coalitions(user))
        mine = dashboards.my_organisations_statements(user)
        coordinating = dashboards.coordinated_statements(user) if coordinated else None
        # Open and closed statements named in the reader's language (one query); drafts by their
        # working text, which is what their drafters edit.
        items = [*mine.waiting, *mine.answered, *(coordinating.open + coordinating.closed if coordinating else [])]
        selectors.reader_texts([item.statement for item in items], get_language())
        return super().get_context_data(
            mine=mine, coordinating=coordinating,
            drafts=dashboards.drafts_for_me(user),
            can_start=selectors.member_coalitions(user).exists(),
            organisation_roles=roles, coordinated=coordinated, **kwargs,
        )
