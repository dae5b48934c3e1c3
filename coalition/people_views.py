"""Who works for each member organisation, and who may sign for it: the coordinators' page and
its one-shot actions. A coordinator sees and changes only the roles made for their own coalition."""

from dataclasses import dataclass

from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from . import names, permissions, services
from .actions import ActionView
from .models import Coalition, Organisation, OrganisationRole


@dataclass
class OrganisationStaff:
    organisation: Organisation
    roles: list  # OrganisationRole of this coalition, those who may sign first
    partner: bool = False  # from outside the coalition, invited to sign one of its statements

    @property
    def has_signer(self) -> bool:
        return any(role.can_sign for role in self.roles)


def organisation_staff(coalition: Coalition) -> list[OrganisationStaff]:
    """Every current member organisation, then every invited partner, with its staff for this
    coalition, alphabetically; three queries."""
    partners = set(permissions.coalition_partners(coalition).values_list("pk", flat=True))
    organisations = sorted(permissions.staffed_organisations(coalition),
                           key=lambda o: (o.pk in partners, names.sort_key(o.display_name)))
    roles: dict[int, list] = {}
    for role in (OrganisationRole.objects.filter(organisation__in=organisations, coalition=coalition)
                 .select_related("user").order_by("-can_sign", "user__name", "user__email")):
        roles.setdefault(role.organisation_id, []).append(role)
    return [OrganisationStaff(organisation, roles.get(organisation.pk, []), organisation.pk in partners)
            for organisation in organisations]


def _managed_coalition(request, slug: str) -> Coalition:
    coalition = get_object_or_404(Coalition, slug=slug)
    permissions.require(permissions.can_manage_members(request.user, coalition))
    return coalition


class PeopleView(LoginRequiredMixin, TemplateView):
    """The coalition's member organisations, their staff and who may sign for each."""

    template_name = "coalition/people.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        coalition = _managed_coalition(self.request, self.kwargs["slug"])
        staff = organisation_staff(coalition)
        acted = self.request.GET.get("acted", "")  # the organisation just acted on: its messages show there
        context.update(coalition=coalition, organisations=staff,
                       acted=acted if any(row.organisation.slug == acted for row in staff) else "",
                       members=[row for row in staff if not row.partner],
                       without_signer=[row for row in staff if not row.has_signer and not row.partner])
        return context


class StaffAction(LoginRequiredMixin, ActionView):
    """Permission, the staff role (made for this coalition, for a current member organisation or
    invited partner, else 404), the service, a message, back to the organisation on the people page."""

    service = None  # (coalition, role, by=) -> anything

    def check(self, request):
        self.coalition = _managed_coalition(request, self.kwargs["slug"])
        self.role = get_object_or_404(
            OrganisationRole.objects.select_related("user", "organisation"), pk=self.kwargs["pk"],
            coalition=self.coalition, organisation__in=permissions.staffed_organisations(self.coalition))

    def perform(self, form):
        self.service(self.coalition, self.role, by=self.request.user)

    def message_values(self, result):
        return {"name": self.role.user.get_full_name(), "organisation": self.role.organisation.name}

    def back_url(self):
        slug = self.role.organisation.slug
        return f"{reverse('coalition_people', args=[self.coalition.slug])}?acted={slug}#organisation-{slug}"


class GrantSigning(StaffAction):
    service = staticmethod(services.grant_signing_authority)
    success_message = gettext_lazy("%(name)s may now sign for %(organisation)s.")


class WithdrawSigning(StaffAction):
    service = staticmethod(services.withdraw_signing_authority)
    success_message = gettext_lazy("%(name)s may no longer sign for %(organisation)s. Signatures already made stand.")


class RemoveStaff(StaffAction):
    service = staticmethod(services.remove_from_staff)
    success_message = gettext_lazy("%(name)s is no longer on the staff of %(organisation)s.")
