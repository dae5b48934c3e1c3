"""The review step before a coordinator's step that cannot be quietly undone (open, close, reopen,
publish, correct, withdraw): a page that says what will happen and what looks wrong, with the
form that confirms it. The actions' POST views are `ReviewedStep`s: a POST that did not come
from the review page (or whose warnings changed since) does nothing and answers 400 with the
review page again."""

from dataclasses import dataclass
from typing import Callable

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from coalition import permissions

from .. import review, workflow
from ..forms import CorrectionForm, OpenForm, PublishForm, ReopenForm, WithdrawForm
from ..workflow import Transition
from .common import StatementAction, visible_statement


class CloseForm(forms.Form):
    """Closing asks for nothing but the confirmation."""


@dataclass(frozen=True)
class Step:
    transition: Transition
    form: type[forms.Form]
    may: Callable  # the permission question
    url_name: str  # the POST view that takes the step
    time_field: str = ""  # the form's deadline or release time, which the findings show


STEPS = {
    "open": Step(Transition.OPEN, OpenForm, permissions.can_open, "statement_open", "deadline"),
    "close": Step(Transition.CLOSE, CloseForm, permissions.can_close, "statement_close"),
    "reopen": Step(Transition.REOPEN, ReopenForm, permissions.can_reopen, "statement_reopen", "deadline"),
    "publish": Step(Transition.PUBLISH, PublishForm, permissions.can_publish, "statement_publish", "public_from"),
    "correct": Step(Transition.CORRECT, CorrectionForm, permissions.can_publish, "statement_correct"),
    "withdraw": Step(Transition.WITHDRAW, WithdrawForm, permissions.can_withdraw, "statement_withdraw"),
}


def findings_for(statement, step: Step, form: forms.Form) -> review.Review:
    time = form.cleaned_data.get(step.time_field) if step.time_field and form.is_bound and form.is_valid() else None
    times = {"public_from": time} if step.time_field == "public_from" else {"deadline": time}
    return review.review(statement, step.transition, **times)


def render_review(request, statement, action: str, form: forms.Form, *, problem: str = "", status: int = 200):
    step = STEPS[action]
    return render(request, "statements/review.html", {
        "statement": statement, "action": action, "findings": findings_for(statement, step, form), "form": form,
        "problem": problem, "confirm_url": reverse(step.url_name, args=[statement.slug]),
        "warns": review.WARNS[step.transition],
    }, status=status)


@require_GET
def review_step(request, slug, action):
    """The review page. The statement page's forms lead here by GET with what was typed (a
    deadline, a release time, a reason), which the page shows and keeps in its own form."""
    statement = visible_statement(request, slug)
    step = STEPS.get(action)
    if step is None:
        raise Http404
    permissions.require(step.may(request.user, statement))
    try:
        workflow.check(statement, step.transition)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(statement)
    typed = any(name in request.GET for name in step.form.base_fields)
    form = step.form(request.GET if typed else None,
                     **({"statement": statement} if getattr(step.form, "takes_statement", False) else {}))
    return render_review(request, statement, action, form, status=400 if typed and not form.is_valid() else 200)


class ReviewedStep(StatementAction):
    """A step taken from its review page. A POST that does not confirm the review (or whose form
    is invalid) does nothing and answers 400 with the review page again and why; so does a
    refusal. Asks the permission question first (403 for others)."""

    action = ""  # a key of STEPS
    problem = ""

    @property
    def form_class(self):
        return STEPS[self.action].form

    def check(self, request):
        super().check(request)
        permissions.require(STEPS[self.action].may(request.user, self.statement))

    def get_form_kwargs(self):
        takes_statement = getattr(self.form_class, "takes_statement", False)
        return {**super().get_form_kwargs(), **({"statement": self.statement} if takes_statement else {})}

    def is_valid(self, form) -> bool:
        valid = form.is_valid()
        self.problem = review.unconfirmed(self.request.POST, findings_for(self.statement, STEPS[self.action], form))
        return valid and not self.problem

    def render_again(self, form, status: int):
        return render_review(self.request, self.statement, self.action, form, problem=self.problem or "",
                             status=status)

    def refused(self, form, exc: ValidationError):
        form.add_error(None, exc)
        return self.render_again(form, status=400)
