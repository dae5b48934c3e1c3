"""One-shot actions on a statement: permission (in the service), form, service, message, redirect.
A refused step comes back as a message; a form with errors re-shows the statement page with it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import services
from ..forms import CommentForm, OpenForm, PublishForm, WithdrawForm
from ..models import Comment
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


@login_required
@require_POST
def open_statement(request, slug):
    statement = visible_statement(request, slug)
    form = OpenForm(request.POST)
    if not form.is_valid():
        return render_statement(request, statement, status=400, open_form=form)
    try:
        services.open_for_signature(statement, by=request.user, deadline=form.cleaned_data["deadline"],
                                    allows_individuals=form.allows_individuals)
    except ValidationError as exc:
        form.add_error(None, exc)
        return render_statement(request, statement, status=400, open_form=form)
    messages.success(request, _("The statement is open for signature."))
    return redirect(statement)


@login_required
@require_POST
def close_statement(request, slug):
    statement = visible_statement(request, slug)
    try:
        services.close_signing(statement, by=request.user)
    except ValidationError as exc:
        return _refused(request, statement, exc)
    messages.success(request, _("Signing is closed."))
    return redirect(statement)


@login_required
@require_POST
def publish_statement(request, slug):
    statement = visible_statement(request, slug)
    form = PublishForm(request.POST)
    if not form.is_valid():
        return render_statement(request, statement, status=400, publish_form=form)
    try:
        services.publish(statement, by=request.user, public_from=form.cleaned_data["public_from"])
    except ValidationError as exc:
        form.add_error(None, exc)
        return render_statement(request, statement, status=400, publish_form=form)
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
    if not form.is_valid():
        return render_statement(request, statement, status=400, withdraw_form=form)
    try:
        services.withdraw(statement, by=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        form.add_error(None, exc)
        return render_statement(request, statement, status=400, withdraw_form=form)
    messages.success(request, _("The statement is withdrawn."))
    return redirect(statement)
