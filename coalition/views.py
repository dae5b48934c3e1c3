from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.db import connection
from django.conf import settings
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import i18n
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.generic import DetailView, ListView

from . import names, permissions, ratelimits, services
from .actions import ActionView
from .forms import AcceptInvitationForm, InvitationForm
from .models import Coalition, Invitation, Membership, Organisation, User


@require_GET
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001  (any database failure means "not healthy")
        return JsonResponse({"status": "database unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


class CoalitionDetailView(DetailView):
    model = Coalition
    template_name = "coalition/coalition_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["memberships"] = sorted(
            Membership.objects.current().filter(coalition=self.object).select_related("organisation"),
            key=lambda m: names.sort_key(m.organisation.display_name))
        context["is_coordinator"] = permissions.is_coordinator(self.request.user, self.object)
        return context


class OrganisationListView(ListView):
    model = Organisation
    template_name = "coalition/organisation_list.html"
    context_object_name = "organisation_list"  # the sorted list has no model to name it by
    paginate_by = 100

    def get_queryset(self):
        """In the alphabetical order of the names in the reader's language."""
        return sorted(super().get_queryset().only("name", "slug", "translations"),
                      key=lambda o: names.sort_key(o.display_name))


class InvitationsView(LoginRequiredMixin, ActionView):
    """A coordinator's invitations: the form that sends one, and those already sent. Past the
    rate limits the form comes back (429) as typed."""

    http_method_names = ["get", "post"]  # as before: HEAD and OPTIONS are 405s
    form_class = InvitationForm
    success_message = gettext_lazy("Invitation sent to %(email)s.")

    def check(self, request):
        self.coalition = get_object_or_404(Coalition, slug=self.kwargs["slug"])
        permissions.require(permissions.can_invite(request.user, self.coalition))

    def get_form_kwargs(self):
        request = self.request
        # ?organisation=<id>&role=signer: the people page's "invite someone" link for one organisation
        return {"data": request.POST or None, "coalition": self.coalition,
                "initial": {"language": request.LANGUAGE_CODE, "organisation": request.GET.get("organisation"),
                            "role": request.GET.get("role", Invitation.Role.STAFF)}}

    def perform(self, form):
        try:
            ratelimits.check_invitation(user=self.request.user, ip=ratelimits.client_ip(self.request))
        except ratelimits.RateLimited as exc:
            raise ValidationError(_("Too many invitations were sent from your account or from here. "
                                    "Please try again in an hour."), code="rate_limited") from exc
        return services.invite(self.coalition, by=self.request.user, **form.cleaned_data)

    def message_values(self, invitation):
        return {"email": invitation.email}

    def back_url(self):
        return reverse("invitations", args=[self.coalition.slug])

    def refused(self, form, exc):
        form.add_error(None, exc)
        return self.render_again(form, status=429 if exc.code == "rate_limited" else 400)

    def render_again(self, form, status):
        pending = self.coalition.invitations.select_related("organisation", "accepted_by")[:200]
        return render(self.request, "coalition/invitations.html",
                      {"coalition": self.coalition, "form": form, "invitations": pending}, status=status)


class RevokeInvitation(LoginRequiredMixin, ActionView):
    success_message = gettext_lazy("Invitation to %(email)s revoked.")

    def check(self, request):
        self.invitation = get_object_or_404(Invitation, pk=self.kwargs["pk"])

    def perform(self, form):
        services.revoke_invitation(self.invitation, by=self.request.user)

    def message_values(self, result):
        return {"email": self.invitation.email}

    def back_url(self):
        return reverse("invitations", args=[self.invitation.coalition.slug])


INVITATION_PROBLEMS = {
    "unknown": (404, _("This invitation link is not valid. Check that you copied the whole link.")),
    "expired": (410, _("This invitation has expired. Ask the coordinator to send a new one.")),
    "accepted": (410, _("This invitation has already been used. Sign in with the account it created.")),
    "revoked": (410, _("This invitation was withdrawn by the coordinator.")),
    "wrong_account": (403, _("This invitation was sent to another address. Sign out, then open the link again.")),
}


def _invitation_problem(request, reason: str):
    status, message = INVITATION_PROBLEMS[reason]
    return render(request, "coalition/invitation_problem.html", {"message": message}, status=status)


@require_http_methods(["GET", "POST"])
def accept_invitation(request, token):
    try:
        invitation = services.usable_invitation(token)
    except services.InvitationUnusable as exc:
        return _invitation_problem(request, exc.reason)
    if _account_exists(invitation.email):
        return _accept_with_existing_account(request, invitation)
    form = AcceptInvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.accept_invitation_as_new_user(
                token, name=form.cleaned_data["name"], password=form.cleaned_data["password1"]
            )
        except ValidationError as exc:
            form.add_error("password1", exc)
        except services.InvitationUnusable as exc:
            return _invitation_problem(request, exc.reason)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome. Your account is ready."))
            return redirect("dashboard")
    status = 400 if request.method == "POST" else 200
    return render(request, "coalition/invitation_accept.html",
                  {"invitation": invitation, "form": form}, status=status)


def _account_exists(email: str) -> bool:
    return User.objects.filter(email__iexact=email).exists()


def _accept_with_existing_account(request, invitation):
    if not request.user.is_authenticated:
        return render(request, "coalition/invitation_accept.html",
                      {"invitation": invitation, "sign_in_first": True})
    if request.method == "POST":
        try:
            services.accept_invitation_as_existing_user(invitation.token, user=request.user)
        except services.InvitationUnusable as exc:
            return _invitation_problem(request, exc.reason)
        messages.success(request, _("Invitation accepted."))
        return redirect("dashboard")
    if request.user.email.lower() != invitation.email.lower():
        return _invitation_problem(request, "wrong_account")
    return render(request, "coalition/invitation_accept.html", {"invitation": invitation, "confirm_only": True})


@require_POST
def set_language(request):
    """Django's language switch, which also remembers the choice for a signed-in person."""
    response = i18n.set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated:
        services.set_language(request.user, language=language)
    return response


@require_GET
def choose_language(request, language):
    """The language switch for visitors not signed in: a plain link (so cached public pages carry
    no form token) that sets Django's language cookie and goes back to `next` on this site."""
    if language not in dict(settings.LANGUAGES):
        raise Http404
    next_url = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE,
                        path=settings.LANGUAGE_COOKIE_PATH, domain=settings.LANGUAGE_COOKIE_DOMAIN,
                        secure=settings.LANGUAGE_COOKIE_SECURE, httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                        samesite=settings.LANGUAGE_COOKIE_SAMESITE)
    return response


def permission_denied(request, exception=None):
    return render(request, "403.html", {"message": str(exception or "")}, status=403)
