from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, ListView, TemplateView

from coalition import permissions
from coalition.caching import cache_public_page

from .. import events, selectors, services, text
from ..forms import CompareForm, RevisionForm, SignatorySearchForm, StatementForm, TranslationForm
from ..models import Revision
from .common import LANGUAGE_NAMES, drafting_statement, statement_context, visible_statement

FIELD_LABELS = {"title": gettext_lazy("Title"), "summary": gettext_lazy("Summary"), "body": gettext_lazy("Text")}


def field_labels() -> dict[str, str]:
    return {name: str(label) for name, label in FIELD_LABELS.items()}


class SubnavMixin:
    """The statement's tabs show "Signatures" and "Events" only to those who may see them."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if "statement" in context:
            context["can_view_history"] = permissions.can_view_history(self.request.user, context["statement"])
            context["can_view_roster"] = permissions.can_view_roster(self.request.user, context["statement"])
        return context


@method_decorator(cache_public_page, name="dispatch")
class StatementDetailView(TemplateView):
    template_name = "statements/statement_detail.html"

    def get(self, request, *args, **kwargs):
        # Rendered inside: the template asks the same role questions as the context.
        with permissions.answers_kept(request.user, getattr(request, "coordinated_coalitions", None)):
            return super().get(request, *args, **kwargs).render()

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs),
                **statement_context(self.request, visible_statement(self.request, kwargs["slug"]))}


@method_decorator(cache_public_page, name="dispatch")
class SignatoryListView(ListView):
    """All of a statement's individual signatories, 100 to a page in the order they confirmed,
    searched by name or affiliation (`?q=`). Whoever sees the statement sees the list; only
    signatures on the text to be signed, and never an address. A page number that is not a
    number, or past the end, shows the nearest page, as in the archive; words too long to be a
    name answer 400 with the message, keeping what was typed."""

    template_name = "statements/signatory_list.html"
    context_object_name = "individuals"
    paginate_by = 100

    def get(self, request, *args, **kwargs):
        self.statement = visible_statement(request, kwargs["slug"])
        if not self.statement.signed_revision_id:  # never opened: nobody has signed
            raise Http404
        self.form = SignatorySearchForm(request.GET)
        response = super().get(request, *args, **kwargs)
        if self.form.errors:
            response.status_code = 400
        return response

    def get_queryset(self):
        return selectors.individuals_on_signed_text(self.statement, self.form.query())

    def paginate_queryset(self, queryset, page_size):
        paginator = self.get_paginator(queryset, page_size)
        number = self.request.GET.get("page")
        page = paginator.get_page(paginator.num_pages if number == "last" else number)
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        organisations = selectors.on_signed_text(self.statement.signatures.filter(kind="organisation")).count()
        return super().get_context_data(statement=self.statement, form=self.form, q=self.form.query(),
                                        organisation_count=organisations, **kwargs)


class InvalidFormStatus:
    """A form sent back with errors answers 400, keeping what was typed."""

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


class StatementCreateView(LoginRequiredMixin, InvalidFormStatus, FormView):
    template_name = "statements/statement_form.html"
    form_class = StatementForm

    def dispatch(self, request, *args, **kwargs):
        self.coalitions = selectors.member_coalitions(request.user)
        if request.user.is_authenticated and not self.coalitions:
            raise PermissionDenied(_("Only staff of a coalition's member organisations start statements."))
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "coalitions": self.coalitions}

    def get_initial(self):
        return {"language": self.request.LANGUAGE_CODE}

    def form_valid(self, form):
        data = form.cleaned_data
        if "preview" in self.request.POST:
            return self.render_to_response(self.get_context_data(form=form, preview=text.render_markdown(data["body"])))
        statement = services.create_draft(
            data["coalition"], by=self.request.user, draft=form.draft(), language=data["language"],
            deadline=data["deadline"], allows_individuals=data["allows_individuals"],
        )
        messages.success(self.request, _("Draft saved. Colleagues in the coalition can now read and edit it."))
        return redirect(statement)


class TextEditView(SubnavMixin, InvalidFormStatus, FormView):
    """Edit a text with a preview step; a save from an out-of-date revision shows the conflict."""

    template_name = "statements/statement_edit.html"

    def dispatch(self, request, *args, **kwargs):
        self.statement = drafting_statement(request, kwargs["slug"])
        permissions.require(permissions.can_edit_statement(request.user, self.statement),
                            _("This statement's text cannot be changed by you now."))
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "statement": self.statement}

    def get_context_data(self, **kwargs):
        return super().get_context_data(statement=self.statement, **kwargs)

    def form_valid(self, form):
        if "preview" in self.request.POST:
            preview = text.render_markdown(form.cleaned_data["body"])
            return self.render_to_response(self.get_context_data(form=form, preview=preview))
        try:
            revision = self.save(form)
        except services.EditConflict as conflict:
            return self.conflict(form, conflict)
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Saved as revision %(number)d.") % {"number": revision.number})
        return redirect(f"{self.statement.get_absolute_url()}?lang={revision.language}")

    def conflict(self, form, conflict: services.EditConflict):
        """Show what changed in between, and the editor's own words in a form that now builds
        on the newer revision, so saving again after merging succeeds."""
        data = self.request.POST.copy()
        data["based_on"] = conflict.latest.pk
        labels = field_labels()
        context = self.get_context_data(
            form=self.get_form_class()(data, statement=self.statement), conflict=conflict,
            theirs=selectors.diff(conflict.base, conflict.latest, labels) if conflict.base else None,
            mine=selectors.diff(conflict.latest, conflict.mine, labels),
        )
        return self.render_to_response(context, status=409)


class StatementEditView(TextEditView):
    form_class = RevisionForm

    def get_initial(self):
        current = self.statement.current_revision
        return {"title": current.title, "summary": current.summary, "body": current.body, "based_on": current}

    def save(self, form) -> Revision:
        return services.save_revision(self.statement, by=self.request.user,
                                      based_on=form.cleaned_data["based_on"], draft=form.draft())


class TranslationEditView(TextEditView):
    form_class = TranslationForm

    def dispatch(self, request, *args, **kwargs):
        if kwargs["language"] not in LANGUAGE_NAMES:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        latest = services.latest_in_language(self.statement, self.kwargs["language"])
        source = {"translation_of": self.statement.current_revision, "based_on": latest}
        if latest is None:
            return source
        return {"title": latest.title, "summary": latest.summary, "body": latest.body, **source}

    def get_context_data(self, **kwargs):
        language = self.kwargs["language"]
        if language == self.statement.primary_language:
            raise Http404
        latest = services.latest_in_language(self.statement, language)
        original = self.statement.current_revision
        changed = None
        if latest is not None and latest.translation_of_id != original.pk:
            changed = selectors.diff(latest.translation_of, original, field_labels())
        return super().get_context_data(language=language, language_name=LANGUAGE_NAMES[language],
                                        original=original, latest=latest, original_changes=changed, **kwargs)

    def save(self, form) -> Revision:
        data = form.cleaned_data
        return services.add_translation(
            self.statement, by=self.request.user, language=self.kwargs["language"], based_on=data["based_on"],
            translation_of=data["translation_of"], draft=form.draft(),
        )


class RevisionHistoryView(SubnavMixin, TemplateView):
    template_name = "statements/revision_history.html"

    def get_context_data(self, **kwargs):
        statement = drafting_statement(self.request, kwargs["slug"])
        pair = RevisionDiffView.default_pair(statement)
        return super().get_context_data(statement=statement, revisions=selectors.revisions(statement),
                                        default_old=pair["old"], default_new=pair["new"], **kwargs)


class RevisionDiffView(SubnavMixin, TemplateView):
    template_name = "statements/revision_diff.html"

    def get(self, request, *args, **kwargs):
        statement = drafting_statement(request, kwargs["slug"])
        form = CompareForm(request.GET or self.default_pair(statement))
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(
                statement=statement, form=form, revisions=selectors.revisions(statement)), status=400)
        old, new = (get_object_or_404(statement.revisions, number=form.cleaned_data[name]) for name in ("old", "new"))
        fields = selectors.diff(old, new, field_labels())
        return self.render_to_response(self.get_context_data(
            statement=statement, form=form, old=old, new=new, fields=fields,
            revisions=selectors.revisions(statement)))

    @staticmethod
    def default_pair(statement) -> dict:
        """Without a choice: the current revision against the one before it in its language."""
        current = statement.current_revision
        before = statement.revisions.filter(language=current.language, number__lt=current.number).order_by("-number").first()
        return {"old": (before or current).number, "new": current.number}


class StatementEventsView(TemplateView):
    template_name = "statements/statement_events.html"

    def get_context_data(self, **kwargs):
        statement = visible_statement(self.request, kwargs["slug"])
        permissions.require(permissions.can_view_history(self.request.user, statement))
        lines = events.describe_all(selectors.history(statement)[:500])
        return super().get_context_data(statement=statement, events=lines, **kwargs)
