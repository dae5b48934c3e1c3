"""Signing pages and actions: the sign page (organisations and individuals), the individual's
confirmation link, withdrawal, declining, confirming a changed text, and for coordinators the
roster, the CSV export, hiding an individual signature and inviting partners."""

import csv

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET
from django.views.generic import TemplateView

from coalition import names, permissions, ratelimits, time_zones
from coalition.models import Organisation

from .. import campaign, selectors
from ..services import cosigning
from ..forms import (
    ConfirmTextForm,
    DeclineForm,
    HideSignatureForm,
    IndividualConfirmForm,
    IndividualSignForm,
    InvitePartnerForm,
    OrganisationSignForm,
    ReminderForm,
    SignatoryOrderForm,
    SignatorySearchForm,
)
from ..models import Signature, Statement
from ..text import spreadsheet_cell
from .common import StatementAction, visible_statement


def sign_url(statement, organisation=None) -> str:
    url = reverse("statement_sign", args=[statement.slug])
    return f"{url}?organisation={organisation.slug}" if organisation else url


class SigningAction(StatementAction):
    """An organisation's answer on the sign page; back there, with its message."""

    def back_url(self):
        return sign_url(self.statement)


class SignView(TemplateView):
    """GET: the frozen text, what the person's organisations have answered, the confirmation
    step for one of them (`?organisation=<slug>`), and the form for individuals.
    POST: sign, for an organisation (the confirmation step's button) or as an individual."""

    template_name = "statements/sign.html"

    def dispatch(self, request, *args, **kwargs):
        self.statement = visible_statement(request, kwargs["slug"])
        if self.statement.signed_revision_id is None:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        statement, user = self.statement, self.request.user
        organisations = list(permissions.signable_organisations(user, statement))
        rows = selectors.signing_answers(statement, organisations)
        chosen = self.request.GET.get("organisation")
        chosen = next((row for row in rows if row["organisation"].slug == chosen), None)
        # The only organisation's confirmation step opens by itself while it has not answered;
        # one that withdrew its signature is not pressed to sign again (its row's button signs).
        if (chosen is None and len(rows) == 1 and not rows[0]["signature"] and not rows[0]["declined"]
                and not selectors.ever_signed(statement, rows[0]["organisation"])):
            chosen = rows[0]
        refusal = cosigning.signing_refusal(statement)
        decline_form = kwargs.pop("decline_form", None) or DeclineForm()
        return super().get_context_data(
            statement=statement, revision=statement.signed_revision, refusal=refusal,
            individuals_may_sign=statement.allows_individuals and not refusal, rows=rows, chosen=chosen,
            # After signing for an organisation, a statement the public may read can be shared.
            share=any(row["signature"] for row in rows) and (statement.is_public or campaign.is_campaign(statement)),
            drafting=permissions.can_view_drafting(user, statement),
            individual_form=kwargs.pop("individual_form", None) or IndividualSignForm(),
            # A refused decline shows again, open, for the organisation it was for.
            decline_form=decline_form,
            decline_for=decline_form.data.get("organisation") if decline_form.is_bound else None,
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        if "organisation" in request.POST:
            return self.sign_for_organisation()
        return self.sign_as_individual()

    def sign_for_organisation(self):
        return SignForOrganisation.as_view()(self.request, *self.args, **self.kwargs)

    def sign_as_individual(self):
        request, statement = self.request, self.statement
        form = IndividualSignForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(individual_form=form), status=400)
        if form.is_bot:  # answered as a signature would be, and nothing is made
            return redirect("signature_sent", statement.slug)
        person = cosigning.Individual(language=request.LANGUAGE_CODE, **{
            name: form.cleaned_data[name] for name in ("name", "email", "affiliation")})
        try:
            cosigning.sign_as_individual(statement, person=person, ip=ratelimits.client_ip(request))
        except ratelimits.RateLimited:
            form.add_error(None, _("Too many signatures were sent from here or for this address. "
                                   "Please try again in an hour."))
            return self.render_to_response(self.get_context_data(individual_form=form), status=429)
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.render_to_response(self.get_context_data(individual_form=form), status=400)
        return redirect("signature_sent", statement.slug)


class SignatureSentView(TemplateView):
    """After signing as an individual (or trying again with the same address): check your email."""

    template_name = "statements/signature_sent.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(statement=visible_statement(self.request, kwargs["slug"]),
                                        confirmation_hours=settings.SIGNATURE_CONFIRMATION_HOURS, **kwargs)


class ConfirmSignatureView(TemplateView):
    """The emailed link's page. A GET only shows what will be confirmed (mail scanners open
    links); the button's POST confirms."""

    template_name = "statements/signature_confirm.html"

    def dispatch(self, request, *args, **kwargs):
        self.statement = get_object_or_404(Statement.objects.select_related("coalition", "signed_revision"),
                                           slug=kwargs["slug"])
        self.signature = cosigning.find_by_token(self.statement, kwargs["token"])
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        refusal = cosigning.confirmation_refusal(self.statement, self.signature)
        return self.render_page(refusal, status=200 if refusal is None else 410 if refusal.code != "unknown" else 404)

    def post(self, request, *args, **kwargs):
        form = IndividualConfirmForm(request.POST)
        if not form.is_valid():
            return self.render_page(None, status=400)
        try:
            cosigning.confirm_individual(self.statement, token=kwargs["token"], sha256=form.cleaned_data["sha256"])
        except ValidationError as exc:
            return self.render_page(exc, status=409 if exc.code == "text_changed" else 410)
        return self.render_page(None, confirmed=True)

    def render_page(self, refusal, status=200, confirmed=False):
        return self.render_to_response(self.get_context_data(
            statement=self.statement, revision=self.statement.signed_revision, signature=self.signature,
            refusal=refusal, confirmed=confirmed), status=status)


def _statement_signature(request, slug, pk):
    statement = visible_statement(request, slug)
    return statement, get_object_or_404(Signature.objects.select_related("organisation"), pk=pk, statement=statement)


class SignatureAction(SigningAction):
    def check(self, request):
        self.statement, self.signature = _statement_signature(request, self.kwargs["slug"], self.kwargs["pk"])

    def message_values(self, result):
        return {"organisation": self.signature.organisation.display_name}


class WithdrawSignature(SignatureAction):
    success_message = gettext_lazy("The signature of %(organisation)s is withdrawn.")

    def perform(self, form):
        cosigning.withdraw_signature(self.signature, by=self.request.user)


class ConfirmNewText(SignatureAction):
    form_class = ConfirmTextForm
    invalid_message = gettext_lazy("Confirm the text from the signing page.")
    success_message = gettext_lazy("The signature of %(organisation)s is now on the new text.")

    def perform(self, form):
        cosigning.confirm_new_text(self.signature, by=self.request.user, sha256=form.cleaned_data["sha256"])


class DeclineToSign(SigningAction):
    form_class = DeclineForm
    success_message = gettext_lazy("You answered that %(organisation)s will not sign.")
    organisation = None  # a refusal goes back to this organisation's confirmation step

    def perform(self, form):
        self.organisation = form.cleaned_data["organisation"]
        cosigning.decline(self.statement, by=self.request.user, organisation=self.organisation,
                          reason=form.cleaned_data["reason"])

    def message_values(self, result):
        return {"organisation": self.organisation.display_name}

    def back_url(self):
        return sign_url(self.statement, self.organisation)

    def get_success_url(self, result):
        return sign_url(self.statement)

    def render_again(self, form, status):  # the page again, with the reason as typed
        page = SignView(request=self.request, args=(), kwargs=self.kwargs, statement=self.statement)
        return page.render_to_response(page.get_context_data(decline_form=form), status=status)


class SignForOrganisation(DeclineToSign):
    """The confirmation step's button on the sign page (SignView's POST with an organisation)."""

    form_class = OrganisationSignForm
    success_message = gettext_lazy("You signed “%(title)s” for %(organisation)s.")

    def perform(self, form):
        self.organisation = form.cleaned_data["organisation"]
        cosigning.sign_for_organisation(self.statement, by=self.request.user, organisation=self.organisation,
                                        sha256=form.cleaned_data["sha256"])

    def message_values(self, result):
        return {"title": self.statement.signed_revision.title, "organisation": self.organisation.display_name}

    def render_again(self, form, status):
        messages.error(self.request, _("Choose the organisation to sign for, then confirm."))
        page = SignView(request=self.request, args=(), kwargs=self.kwargs, statement=self.statement)
        return page.render_to_response(page.get_context_data(), status=status)


ROSTER_INDIVIDUALS_PER_PAGE = 100


class RosterView(TemplateView):
    """For coordinators: every member organisation (and invited partner): signed, declined, no
    answer; individuals, newest first, 100 to a page and searchable (`?q=`, `?page=`), with hiding;
    inviting partners."""

    template_name = "statements/roster.html"

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if response.context_data["individual_search"].errors:  # words too long: 400, with the message
            response.status_code = 400
        return response

    def get_context_data(self, **kwargs):
        statement = visible_statement(self.request, kwargs["slug"])
        permissions.require(permissions.can_view_roster(self.request.user, statement))
        search = SignatorySearchForm(self.request.GET)
        individuals = Paginator(selectors.roster_individuals(statement, search.query()),
                                ROSTER_INDIVIDUALS_PER_PAGE).get_page(self.request.GET.get("page"))
        roster, may_remind = selectors.roster_with_reminders(statement), not cosigning.signing_refusal(statement)
        return super().get_context_data(
            statement=statement, roster=roster, messages_for=_messages_for(self.request, roster, may_remind),
            individuals=individuals.object_list, individuals_page=individuals, individual_search=search,
            partner_form=kwargs.pop("partner_form", None) or InvitePartnerForm(statement=statement),
            order_form=kwargs.pop("order_form", None) or signatory_order_form(statement),
            may_remind=may_remind,
            # The note last sent stays in the field: a note written for one organisation goes to all.
            remind_form=kwargs.pop("remind_form", None) or ReminderForm(
                initial={"note": self.request.session.get(reminder_note_key(statement), "")}),
            reminder_hours=f"{settings.SIGNATURE_MANUAL_REMINDER_HOURS:g}",
            can_view_history=True, can_view_roster=True, drafting=True, **kwargs,
        )


def _messages_for(request, roster, may_remind: bool) -> str:
    """Where the roster shows the messages of a reminder just sent (`?reminded=`): beside the
    reminder form ("all"), in the row of the organisation reminded (its slug), or at the top ("")
    when that place is not on the page."""
    reminded = request.GET.get("reminded", "")
    if reminded == "all":
        return "all" if may_remind and roster.no_answer else ""
    return reminded if any(row.organisation.slug == reminded for row in roster.no_answer) else ""


def signatory_order_form(statement, data=None) -> SignatoryOrderForm | None:
    """The places of the signatory organisations as the statement lists them now; None when
    there is nothing to order (fewer than two) or the order can no longer change."""
    if statement.status not in (statement.Status.OPEN, statement.Status.CLOSED):
        return None
    signatures = selectors.signatory_summary(statement, recent=0).organisations
    if len(signatures) < 2:
        return None
    return SignatoryOrderForm(data, organisations=[s.organisation for s in signatures])


class RosterAction(StatementAction):
    """A coordinator's action on the roster; back there, with its message."""

    def back_url(self):
        return reverse("statement_roster", args=[self.statement.slug])

    def render_again(self, form, status):  # the roster again, with the form as typed and what is wrong
        return _roster_again(self.request, self.statement.slug, status=status, **{self.form_name: form})


class OrderSignatories(RosterAction):
    form_name = "order_form"
    success_message = gettext_lazy("The order of signatory organisations is saved.")

    def check(self, request):
        super().check(request)
        permissions.require(permissions.can_order_signatories(request.user, self.statement))

    def get_form(self):
        return signatory_order_form(self.statement, self.request.POST)

    def perform(self, form):
        if form is None:
            raise ValidationError(_("There is no order to set: fewer than two organisations have signed, "
                                    "or signing is over."))
        cosigning.set_signatory_order(self.statement, by=self.request.user, organisation_ids=form.cleaned_data["order"])


def _roster_again(request, slug, status=400, **forms):
    view = RosterView()
    view.setup(request, slug=slug)
    return view.render_to_response(view.get_context_data(slug=slug, **forms), status=status)


def reminder_note_key(statement) -> str:
    return f"reminder-note:{statement.pk}"


class Remind(RosterAction):
    """Remind the organisations that have not answered (or only `organisation`), with a note;
    back to the row (or the reminder form), where the message shows."""

    form_class = ReminderForm
    form_name = "remind_form"

    def check(self, request):
        super().check(request)
        permissions.require(permissions.can_remind(request.user, self.statement))
        organisation = self.kwargs.get("organisation")
        self.target = get_object_or_404(Organisation, slug=organisation) if organisation else None

    def perform(self, form):
        self.request.session[reminder_note_key(self.statement)] = form.cleaned_data["note"]
        return cosigning.remind(self.statement, by=self.request.user, organisation=self.target,
                                note=form.cleaned_data["note"])

    def succeeded(self, result):
        _report_reminders(self.request, result)
        return redirect(self.back_url())

    def back_url(self):
        target = self.target
        anchor = f"org-{target.slug}" if target else "remind-form"
        return f"{super().back_url()}?reminded={target.slug if target else 'all'}#{anchor}"


def _report_reminders(request, outcome: cosigning.Reminders) -> None:
    count = len(outcome.reminded)
    if count == 1:
        messages.success(request, _("%(organisation)s was reminded.") % {"organisation": outcome.reminded[0].display_name})
    elif count:
        messages.success(request, ngettext("%(count)d organisation was reminded.",
                                           "%(count)d organisations were reminded.", count) % {"count": count})
    if outcome.recently:
        when = time_zones.format_moment(outcome.next_possible)
        messages.warning(request, ngettext(
            "%(count)d organisation was skipped: a coordinator reminded it less than %(hours)s hours ago. "
            "The next reminder is possible from %(date)s.",
            "%(count)d organisations were skipped: a coordinator reminded them less than %(hours)s hours ago. "
            "The next reminder is possible from %(date)s.", len(outcome.recently),
        ) % {"count": len(outcome.recently), "hours": f"{settings.SIGNATURE_MANUAL_REMINDER_HOURS:g}", "date": when})
    if outcome.unreachable:
        messages.warning(request, ngettext(
            "%(count)d organisation was not reminded: everyone who may sign for it turned reminders off.",
            "%(count)d organisations were not reminded: everyone who may sign for them turned reminders off.",
            len(outcome.unreachable)) % {"count": len(outcome.unreachable)})
    if outcome.nobody:
        messages.info(request, ngettext(
            "%(count)d organisation without an answer has nobody who may sign for it: invite a signer (the links "
            "are in the table).",
            "%(count)d organisations without an answer have nobody who may sign for them: invite a signer for "
            "each (the links are in the table).", len(outcome.nobody)) % {"count": len(outcome.nobody)})


class HideSignature(RosterAction):
    form_class = HideSignatureForm
    invalid_message = gettext_lazy("Give the reason for hiding the signature.")
    success_message = gettext_lazy("The signature of %(name)s is hidden.")

    def check(self, request):
        self.statement, self.signature = _statement_signature(request, self.kwargs["slug"], self.kwargs["pk"])

    def perform(self, form):
        cosigning.hide_signature(self.signature, by=self.request.user, reason=form.cleaned_data["reason"])

    def message_values(self, result):
        return {"name": self.signature.name}


class InvitePartner(RosterAction):
    form_class = InvitePartnerForm
    invalid_message = gettext_lazy("Choose an organisation from the list.")
    success_message = gettext_lazy("%(organisation)s may now sign.")

    def check(self, request):
        super().check(request)
        permissions.require(permissions.can_invite_partner(request.user, self.statement))

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "statement": self.statement}

    def perform(self, form):
        cosigning.invite_partner(self.statement, by=self.request.user, organisation=form.cleaned_data["organisation"])
        return form.cleaned_data["organisation"]

    def message_values(self, result):
        return {"organisation": result}


CSV_HEADER = ["kind", "organisation", "name", "affiliation", "email", "signed_by", "signed_at", "confirmed_at",
              "revision", "sha256", "current_text"]


def _csv_header() -> list[str]:
    # "organisation" is the name as the organisation gave it; one column more per other language of
    # the site ("organisation_uk"), with the original where the organisation gave no name in it.
    # Added at the end so that sheets reading the earlier columns by position still read them.
    return [*CSV_HEADER, *(f"organisation_{code}" for code in names.other_languages())]


@require_GET
def signatures_csv(request, slug):
    """Organisations and confirmed individuals, UTF-8 with a BOM so that Excel reads Cyrillic.
    Streamed, row by row from the database in chunks, so that 100,000 signatures are neither
    held in memory nor wait for the whole file before the first byte."""
    statement = visible_statement(request, slug)
    permissions.require(permissions.can_view_roster(request.user, statement))
    response = StreamingHttpResponse(_csv_lines(statement), content_type="text/csv; charset=utf-8")
    name = slugify(statement.slug)[:60] or "statement"
    response["Content-Disposition"] = f'attachment; filename="{name}-signatures.csv"'
    return response


class _Line:
    """What csv.writer writes to: it hands back each line instead of keeping it."""

    def write(self, line: str) -> str:
        return line


def _csv_lines(statement):
    writer = csv.writer(_Line())
    yield "\ufeff" + writer.writerow(_csv_header())
    others = names.other_languages()
    for s in selectors.signatures_for_export(statement).iterator(chunk_size=2000):
        yield writer.writerow([spreadsheet_cell(value) for value in (
            s.kind, s.organisation.name if s.organisation_id else "", s.name, s.affiliation, s.email,
            s.signed_by.email if s.signed_by_id else "", _iso(s.created_at), _iso(s.confirmed_at),
            s.revision.number, s.sha256, "yes" if s.revision_id == statement.signed_revision_id else "no",
            *(s.organisation.name_in(code) if s.organisation_id else "" for code in others),
        )])


def _iso(moment) -> str:
    # In the site's zone with its offset: the same file for every coordinator, whatever their own zone.
    return timezone.localtime(moment, time_zones.site_zone()).isoformat(timespec="seconds") if moment else ""
