"""What the statement pages and actions share: finding a statement the person may see, and the
statement page's context."""

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.generic import FormView

from coalition import params, permissions, ratelimits
from coalition.actions import ActionView

from .. import caching, selectors, workflow
from ..services import cosigning
from ..forms import CommentForm, CorrectionForm, DeadlineForm, OpenForm, PublishForm, ReopenForm, WithdrawForm
from ..models import Statement

LANGUAGE_NAMES = dict(settings.LANGUAGES)


def visible_statement(request, slug: str) -> Statement:
    """The statement, or a 404 for anyone who may not see it (a draft does not reveal that it exists)."""
    statement = _statement_row(request, slug)
    permissions.ask_staff_roles(request.user, statement)  # the statement page: one query for two questions
    if not permissions.can_view_statement(request.user, statement):
        raise Http404
    caching.page_depends_on(request, statement)  # a stored copy is renewed with this statement
    return statement


STATEMENT_ROW = Statement.objects.select_related("coalition", "current_revision__author", "signed_revision__author")


def _statement_row(request, slug: str) -> Statement:
    """The statement's row with its coalition and its texts' authors. A signed-in visitor's page
    takes it from the cache, stored with the statement's versions (`caching.statement_value`: renewed
    when the statement, its texts or publications, or the site's names change, never served behind
    them), found by the address it was last read under; a page to be stored for everyone, or an
    address not seen before (or since moved), asks the database."""
    if not request.user.is_authenticated:
        return get_object_or_404(STATEMENT_ROW, slug=slug)
    known = caching.statement_at_address(slug)
    if known is not None:
        statement = caching.statement_value(request, known, "row", lambda: STATEMENT_ROW.filter(pk=known).first())
        if statement is not None and statement.slug == slug:
            return statement
    statement = get_object_or_404(STATEMENT_ROW, slug=slug)
    caching.remember_address(slug, statement.pk)
    return statement


class StatementAction(LoginRequiredMixin, ActionView):
    """A signed-in person's action on one statement (`self.statement`, 404 for those who may not
    see it); back to the statement's page."""

    def check(self, request):
        self.statement = visible_statement(request, self.kwargs["slug"])

    def back_url(self) -> str:
        return self.statement.get_absolute_url()


def drafting_statement(request, slug: str) -> Statement:
    """The statement, for pages of its working papers (revisions, differences, comments)."""
    statement = visible_statement(request, slug)
    if not permissions.can_view_drafting(request.user, statement):
        raise Http404
    return statement


def shown_revision(statement: Statement, language: str | None, *, stale: bool = False):
    """The text a reader sees: the signed text once signing has started, else the current one;
    in another language, that language's latest translation: for the public only if it
    translates the text they read (`selectors.latest_translations`), for member staff (`stale`)
    even if it is out of date."""
    if language and language != statement.primary_language:
        translation = selectors.latest_translations([statement.pk], language, stale=stale).get(statement.pk)
        if translation is not None:
            return translation
    return statement.signed_revision or statement.current_revision


def reader_language_notes(statement: Statement, revision, *, requested: str | None, reader: str) -> dict:
    """What the page says about its language (templatetags/languages.py words it): read as a
    translation, with a link to the signed original; or, to a reader who did not ask for a
    language, that the statement has no version in theirs."""
    translation = revision.language != statement.primary_language
    return {"reading_translation": translation,
            "only_original": not translation and requested is None and reader != statement.primary_language}


def language_versions(statement: Statement, *, stale: bool = False) -> list[dict]:
    versions = [{"code": statement.primary_language, "name": LANGUAGE_NAMES[statement.primary_language],
                 "original": True, "out_of_date": False}]
    for translation in selectors.translations(statement, stale=stale):
        code = translation.revision.language
        versions.append({"code": code, "name": LANGUAGE_NAMES.get(code, code), "original": False,
                         "out_of_date": translation.out_of_date})
    return versions


def actions(user, statement: Statement) -> dict[str, bool]:
    def may(transition, check):
        return workflow.allowed(statement, transition) and check(user, statement)

    T = workflow.Transition
    return {
        "open": may(T.OPEN, permissions.can_open), "close": may(T.CLOSE, permissions.can_close),
        "publish": may(T.PUBLISH, permissions.can_publish), "withdraw": may(T.WITHDRAW, permissions.can_withdraw),
        "correct": may(T.CORRECT, permissions.can_publish),
        "reopen": may(T.REOPEN, permissions.can_reopen),  # closed: not yet published
        "move_deadline": statement.status == statement.Status.OPEN and permissions.can_move_deadline(user, statement),
    }


def statement_context(request, statement: Statement, **forms) -> dict:
    user, requested = request.user, params.language(request.GET.get("lang"))
    drafting = permissions.can_view_drafting(user, statement)
    # Asked for by ?lang=, or the reader's own language (which never opens on an out-of-date one).
    reader = get_language() or settings.LANGUAGE_CODE
    revision = shown_revision(statement, requested or reader, stale=drafting and requested is not None)
    return {
        "statement": statement,
        "revision": revision,
        # The address of the version shown: canonical, og:url (the bare one follows the reader).
        "language_query": f"?lang={revision.language}" if requested else "",
        **reader_language_notes(statement, revision, requested=requested, reader=reader),
        "versions": caching.statement_value(request, statement.pk, f"language-versions:{drafting}",
                                            lambda: language_versions(statement, stale=drafting)),
        "drafting": drafting,
        "can_edit": permissions.can_edit_statement(user, statement),
        "can_comment": permissions.can_comment(user, statement),
        "can_resolve": permissions.is_coordinator(user, statement.coalition),
        "can_view_history": permissions.can_view_history(user, statement),
        "can_view_roster": permissions.can_view_roster(user, statement),
        # Read only if the page's stored signatories fragment is out of date ({% statement_fragment %}).
        "signatories": SimpleLazyObject(lambda: selectors.signatory_summary(statement, earlier=drafting))
        if statement.signed_revision_id else None,
        "signing_refusal": cosigning.signing_refusal(statement),
        "may_sign": permissions.can_sign_statement(user, statement),
        "actions": actions(user, statement),
        "comments": caching.statement_value(request, statement.pk, "comments", lambda: list(
            statement.comments.select_related("author", "revision", "resolved_by"))) if drafting else [],
        # The forms are built only if the page shows them (most visitors see none of the coordinator's).
        "comment_form": forms.get("comment_form") or SimpleLazyObject(
            lambda: CommentForm(statement=statement, initial={"revision": revision})),
        "open_form": forms.get("open_form") or SimpleLazyObject(lambda: OpenForm(initial={
            "deadline": statement.deadline,
            "who_may_sign": "individuals" if statement.allows_individuals else "organisations"})),
        "withdraw_form": forms.get("withdraw_form") or SimpleLazyObject(WithdrawForm),
        "reopen_form": SimpleLazyObject(ReopenForm),
        "deadline_form": forms.get("deadline_form") or SimpleLazyObject(
            lambda: DeadlineForm(initial={"deadline": statement.deadline})),
        "publish_form": forms.get("publish_form") or SimpleLazyObject(lambda: PublishForm(statement=statement)),
        "correction_form": forms.get("correction_form") or SimpleLazyObject(CorrectionForm),
        # Not kept while a PDF is being made: the worker that finishes it moves the statement's
        # versions, but a page must not depend on seeing that move to stop saying "being prepared".
        "issues": caching.statement_value(request, statement.pk, f"issues:{drafting}",
                                          lambda: selectors.issues(statement, user), keep=_no_pdf_being_made),
        "can_retry": permissions.can_publish(user, statement),
    }


def _no_pdf_being_made(issues) -> bool:
    return not any(issue.publication.state == issue.publication.State.PENDING for issue in issues)


def render_statement(request, statement: Statement, status: int = 200, **forms):
    """The statement page, e.g. again with a form's errors and what was typed."""
    return render(request, "statements/statement_detail.html",
                  statement_context(request, statement, **forms), status=status)


class EmailLinkRequestView(FormView):
    """A public form that takes an email address and sends a link to it (subscribing, asking for
    erasure). It answers the same way whatever the address, and for the honeypot, so nobody
    learns who is on the list; past the rate limits it comes back (429) with the address kept.
    Subclasses say what to do with the address (`act`) and where to go next (`sent_url_name`)."""

    sent_url_name = ""

    def act(self, email: str, *, language: str, ip: str) -> None:
        raise NotImplementedError

    def form_valid(self, form):
        if not form.is_bot:
            try:
                self.act(form.cleaned_data["email"], language=get_language() or "en",
                         ip=ratelimits.client_ip(self.request))
            except ratelimits.RateLimited:
                form.add_error(None, _("Too many requests were sent from here or for this address. "
                                       "Please try again in an hour."))
                return self.render_to_response(self.get_context_data(form=form), status=429)
        return redirect(self.sent_url_name)

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)
