"""One-shot actions on a statement (`coalition.actions.ActionView`): permission (in the service),
form, service, message, redirect. A refused step comes back as a message; a form with errors
re-shows the statement page with it.
The coordinator's steps that cannot be quietly undone are confirmed on their review page
(`review`): without that confirmation their POST does nothing."""

from django.contrib import messages
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from coalition import permissions

from .. import services
from ..forms import CommentForm, DeadlineForm
from ..models import Comment
from . import review
from .common import StatementAction, drafting_statement, render_statement


class AddComment(StatementAction):
    form_class = CommentForm
    success_message = gettext_lazy("Comment added.")

    def check(self, request):
        self.statement = drafting_statement(request, self.kwargs["slug"])

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "statement": self.statement}

    def perform(self, form):
        services.add_comment(self.statement, by=self.request.user, body=form.cleaned_data["body"],
                             revision=form.cleaned_data["revision"])

    def get_success_url(self, result):
        return f"{self.statement.get_absolute_url()}#comments"

    def render_again(self, form, status):
        return render_statement(self.request, self.statement, status=status, comment_form=form)

    def refused(self, form, exc):
        form.add_error("body", exc)
        return self.render_again(form, status=400)


class ResolveComment(StatementAction):
    success_message = gettext_lazy("Comment marked as resolved.")

    def check(self, request):
        self.statement = drafting_statement(request, self.kwargs["slug"])
        self.comment = get_object_or_404(Comment, pk=self.kwargs["pk"], statement=self.statement)

    def perform(self, form):
        services.resolve_comment(self.comment, by=self.request.user)

    def get_success_url(self, result):
        return f"{self.statement.get_absolute_url()}#comments"


class OpenStatement(review.ReviewedStep):
    action = "open"
    success_message = gettext_lazy("The statement is open for signature.")

    def perform(self, form):
        services.open_for_signature(self.statement, by=self.request.user, deadline=form.cleaned_data["deadline"],
                                    allows_individuals=form.allows_individuals)


class CloseStatement(review.ReviewedStep):
    action = "close"
    success_message = gettext_lazy("Signing is closed.")

    def perform(self, form):
        services.close_signing(self.statement, by=self.request.user)


class ReopenStatement(review.ReviewedStep):
    action = "reopen"
    success_message = gettext_lazy("The statement is open for signature again.")

    def perform(self, form):
        services.reopen(self.statement, by=self.request.user, deadline=form.cleaned_data["deadline"])


class MoveDeadline(StatementAction):
    """Moving the deadline while open needs no review: it can be moved again."""

    form_class = DeadlineForm
    success_message = gettext_lazy("The signing deadline is moved; everyone who may sign is told.")

    def check(self, request):
        super().check(request)
        permissions.require(permissions.can_move_deadline(request.user, self.statement))

    def perform(self, form):
        services.move_deadline(self.statement, by=self.request.user, deadline=form.cleaned_data["deadline"])

    def render_again(self, form, status):
        return render_statement(self.request, self.statement, status=status, deadline_form=form)

    def refused(self, form, exc):
        if self.statement.status == self.statement.Status.OPEN:
            form.add_error("deadline", exc)
        else:  # the page shows no deadline form to put the message in
            messages.error(self.request, " ".join(exc.messages))
        return self.render_again(form, status=400)


class PublishStatement(review.ReviewedStep):
    action = "publish"

    def perform(self, form):
        services.publish(self.statement, by=self.request.user, public_from=form.cleaned_data["public_from"],
                         place=form.cleaned_data["place"])

    def get_success_message(self, result):
        issue = self.statement.publications.order_by("-number").first()
        if issue is not None and issue.state == issue.State.READY:  # made at once (tasks run in-process)
            return _("The statement is published with its signed PDF.")
        return _("The statement is published; its signed PDF is being prepared.")


class WithdrawStatement(review.ReviewedStep):
    action = "withdraw"
    success_message = gettext_lazy("The statement is withdrawn.")

    def perform(self, form):
        services.withdraw(self.statement, by=self.request.user, reason=form.cleaned_data["reason"])
