"""One-shot actions on a statement: permission (in the service), form, service, message, redirect.
A refused step comes back as a message; a form with errors re-shows the statement page with it.
The coordinator's steps that cannot be quietly undone are confirmed on their review page
(`review`): without that confirmation their POST does nothing."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from coalition import permissions

from .. import services
from ..forms import CommentForm, DeadlineForm, OpenForm, PublishForm, ReopenForm, WithdrawForm
from ..models import Comment
from . import review
from .common import drafting_statement, render_statement, visible_statement


def _refused(request, statement, exc: ValidationError):
    messages.error(request, " ".join(exc.messages))
    return redirect(statement)


@login_required
@require_POST
def add_comment(request, slug):
    statement = drafting_statement(request, slug)
    form = CommentForm(request.POST, statement=statement)
    if not form.is_valid():
        return render_statement(request, statement, status=400, comment_form=form)
    try:
        services.add_comment(statement, by=request.user, body=form.cleaned_data["body"],
                             revision=form.cleaned_data["revision"])
    except ValidationError as exc:
        form.add_error("body", exc)
        return render_statement(request, statement, status=400, comment_form=form)
    messages.success(request, _("Comment added."))
    return redirect(f"{statement.get_absolute_url()}#comments")


@login_required
@require_POST
def resolve_comment(request, slug, pk):
    statement = drafting_statement(request, slug)
    comment = get_object_or_404(Comment, pk=pk, statement=statement)
    try:
        services.resolve_comment(comment, by=request.user)
    except ValidationError as exc:
        return _refused(request, statement, exc)
    messages.success(request, _("Comment marked as resolved."))
    return redirect(f"{statement.get_absolute_url()}#comments")


def _review_again(request, statement, action, form, exc: ValidationError):
    form.add_error(None, exc)
    return review.render_review(request, statement, action, form, status=400)


@login_required
@require_POST
def open_statement(request, slug):
    statement = visible_statement(request, slug)
    form = OpenForm(request.POST)
    if refused := review.unconfirmed(request, statement, "open", form):
        return refused
    try:
        services.open_for_signature(statement, by=request.user, deadline=form.cleaned_data["deadline"],
                                    allows_individuals=form.allows_individuals)
    except ValidationError as exc:
        return _review_again(request, statement, "open", form, exc)
    messages.success(request, _("The statement is open for signature."))
    return redirect(statement)


@login_required
@require_POST
def close_statement(request, slug):
    statement = visible_statement(request, slug)
    form = review.CloseForm(request.POST)
    if refused := review.unconfirmed(request, statement, "close", form):
        return refused
    try:
        services.close_signing(statement, by=request.user)
    except ValidationError as exc:
        return _review_again(request, statement, "close", form, exc)
    messages.success(request, _("Signing is closed."))
    return redirect(statement)


@login_required
@require_POST
def reopen_statement(request, slug):
    statement = visible_statement(request, slug)
    form = ReopenForm(request.POST)
    if refused := review.unconfirmed(request, statement, "reopen", form):
        return refused
    try:
        services.reopen(statement, by=request.user, deadline=form.cleaned_data["deadline"])
    except ValidationError as exc:
        return _review_again(request, statement, "reopen", form, exc)
    messages.success(request, _("The statement is open for signature again."))
    return redirect(statement)


@login_required
@require_POST
def move_deadline(request, slug):
    """Moving the deadline while open needs no review: it can be moved again."""
    statement = visible_statement(request, slug)
    permissions.require(permissions.can_move_deadline(request.user, statement))
    form = DeadlineForm(request.POST)
    if not form.is_valid():
        return render_statement(request, statement, status=400, deadline_form=form)
    try:
        services.move_deadline(statement, by=request.user, deadline=form.cleaned_data["deadline"])
    except ValidationError as exc:
        if statement.status == statement.Status.OPEN:
            form.add_error("deadline", exc)
        else:  # the page shows no deadline form to put the message in
            messages.error(request, " ".join(exc.messages))
        return render_statement(request, statement, status=400, deadline_form=form)
    messages.success(request, _("The signing deadline is moved; everyone who may sign is told."))
    return redirect(statement)


@login_required
@require_POST
def publish_statement(request, slug):
    statement = visible_statement(request, slug)
    form = PublishForm(request.POST, statement=statement)
    if refused := review.unconfirmed(request, statement, "publish", form):
        return refused
    try:
        services.publish(statement, by=request.user, public_from=form.cleaned_data["public_from"],
                         place=form.cleaned_data["place"])
    except ValidationError as exc:
        return _review_again(request, statement, "publish", form, exc)
    issue = statement.publications.order_by("-number").first()
    if issue is not None and issue.state == issue.State.READY:  # made at once (tasks run in-process)
        messages.success(request, _("The statement is published with its signed PDF."))
    else:
        messages.success(request, _("The statement is published; its signed PDF is being prepared."))
    return redirect(statement)


@login_required
@require_POST
def withdraw_statement(request, slug):
    statement = visible_statement(request, slug)
    form = WithdrawForm(request.POST)
    if refused := review.unconfirmed(request, statement, "withdraw", form):
        return refused
    try:
        services.withdraw(statement, by=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        return _review_again(request, statement, "withdraw", form, exc)
    messages.success(request, _("The statement is withdrawn."))
    return redirect(statement)
