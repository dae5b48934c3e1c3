"""Drafting: writing a statement, its revisions and translations, and commenting on them. One
function per thing a person does.

Each runs in one transaction, asks `coalition.permissions` whether the person may, asks
`workflow` whether the statement's state allows it, and writes one audit event on the statement
(so a statement's history is `audit.events_for(statement)`).
"""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from coalition import audit, permissions, validators
from coalition.models import Coalition, User

from .. import search, text, workflow
from ..models import Comment, Revision, Statement
from . import cosigning

COMMENT_MAX_LENGTH = 5000
# Paths under /statements/ that a statement's slug must not take.
RESERVED_SLUGS = {"new"}

# Ukrainian national transliteration (2010), enough to give Ukrainian titles a readable address.
_UK_LATIN = dict(zip(
    "абвгґдеєжзиіїйклмнопрстуфхцчшщьюяʼ'’",
    ["a", "b", "v", "h", "g", "d", "e", "ie", "zh", "z", "y", "i", "i", "i", "k", "l", "m", "n", "o",
     "p", "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "iu", "ia", "", "", ""],
    strict=True,
))


@dataclass
class Draft:
    """The words an editor submitted."""

    title: str
    summary: str
    body: str
    note: str = ""


class EditConflict(Exception):
    """Someone saved a newer revision after the editor started: nothing was saved.

    Carries the revision the editor started from (`base`, None for a first translation), the
    newer revision saved in between (`latest`) and the editor's own words (`mine`), so the editor
    can see the difference and merge."""

    def __init__(self, *, base: Revision | None, latest: Revision, mine: Draft):
        super().__init__(f"revision {latest.number} was saved after the editor started")
        self.base, self.latest, self.mine = base, latest, mine


def _locked(statement: Statement) -> Statement:
    return Statement.objects.select_for_update().select_related("coalition").get(pk=statement.pk)


def _next_number(statement: Statement) -> int:
    return (statement.revisions.aggregate(n=Max("number"))["n"] or 0) + 1


def latest_in_language(statement: Statement, language: str) -> Revision | None:
    return statement.revisions.filter(language=language).order_by("-number").first()


def _unique_slug(title: str) -> str:
    base = slugify("".join(_UK_LATIN.get(c, c) for c in title.lower()))[:80].strip("-") or "statement"
    slug, n = base, 2
    while slug in RESERVED_SLUGS or Statement.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _revision(statement: Statement, *, by: User, draft: Draft, language: str, based_on=None,
              translation_of=None) -> Revision:
    if not text.normalise_title(draft.title) or not text.normalise(draft.body):
        raise ValidationError(_("A statement needs a title and a text."), code="empty")
    validators.validate_title(draft.title)
    revision = Revision.objects.create(
        statement=statement, number=_next_number(statement), language=language, title=draft.title,
        summary=draft.summary, body=draft.body, author=by, note=draft.note.strip(),
        based_on=based_on, translation_of=translation_of,
    )
    search.index_revision(revision)  # a revision never changes: its search terms are made once
    return revision


@transaction.atomic
def create_draft(coalition: Coalition, *, by: User, draft: Draft, language: str,
                 deadline: datetime | None = None, allows_individuals: bool = False,
                 slug: str | None = None) -> Statement:
    """A member's staff starts a statement: a draft with its first revision. The address (`slug`)
    is made from the title unless given."""
    permissions.require(permissions.can_create_statement(by, coalition))
    if slug is not None and (slug in RESERVED_SLUGS or Statement.objects.filter(slug=slug).exists()):
        raise ValidationError(_("Another statement already has this address."), code="slug")
    statement = Statement.objects.create(
        coalition=coalition, slug=slug or _unique_slug(draft.title), primary_language=language,
        deadline=deadline, allows_individuals=allows_individuals, created_by=by,
    )
    revision = _revision(statement, by=by, draft=draft, language=language)
    statement.current_revision = revision
    statement.save(update_fields=["current_revision"])
    audit.record(by, "statement.created", statement, revision=revision.number, language=language,
                 sha256=revision.sha256)
    return statement


@transaction.atomic
def save_revision(statement: Statement, *, by: User, based_on: Revision, draft: Draft) -> Revision:
    """Save an edit of the original text as a new revision.

    `based_on` is the revision the editor started from; if someone saved a newer one since,
    `EditConflict` is raised and nothing is saved. While the statement is open (coordinators
    only), the new revision becomes the one to be signed; the audit event records the revision
    it replaces (`signed_revision_replaced`), which is what earlier signers must re-confirm."""
    statement = _locked(statement)
    permissions.require(permissions.can_edit_statement(by, statement))
    workflow.check_editable(statement)
    current = statement.current_revision
    if based_on.pk != current.pk:
        raise EditConflict(base=based_on, latest=current, mine=draft)
    if text.sha256_of(draft.title, draft.summary, draft.body) == current.sha256:
        raise ValidationError(_("Nothing has changed: the text is the same as the current revision."),
                              code="unchanged")
    revision = _revision(statement, by=by, draft=draft, language=statement.primary_language, based_on=current)
    replaced = statement.signed_revision if statement.status == Statement.Status.OPEN else None
    statement.current_revision = revision
    fields = ["current_revision"]
    if replaced is not None:
        statement.signed_revision = revision
        fields.append("signed_revision")
    statement.save(update_fields=fields)
    audit.record(by, "statement.edited", statement, revision=revision.number, based_on=current.number,
                 sha256=revision.sha256, note=revision.note,
                 signed_revision_replaced=replaced.number if replaced else None)
    if replaced is not None:
        cosigning.ask_to_confirm_new_text(statement)
    return revision


@transaction.atomic
def add_translation(statement: Statement, *, by: User, language: str, based_on: Revision | None,
                    translation_of: Revision, draft: Draft) -> Revision:
    """Save a translation (or a new version of one) of `translation_of`, a revision of the
    original. `based_on` is the latest translation in that language the translator started
    from (None for the first); a newer one saved since raises `EditConflict`."""
    statement = _locked(statement)
    permissions.require(permissions.can_translate(by, statement))
    workflow.check_editable(statement)
    if language == statement.primary_language:
        raise ValidationError(_("A translation must be in another language than the original."), code="language")
    if translation_of.statement_id != statement.pk or translation_of.language != statement.primary_language:
        raise ValidationError(_("A translation translates a revision of this statement's original."), code="source")
    latest = latest_in_language(statement, language)
    if latest is not None and (based_on is None or based_on.pk != latest.pk):
        raise EditConflict(base=based_on, latest=latest, mine=draft)
    revision = _revision(statement, by=by, draft=draft, language=language, based_on=latest,
                         translation_of=translation_of)
    audit.record(by, "statement.translated", statement, revision=revision.number, language=language,
                 translation_of=translation_of.number, sha256=revision.sha256)
    return revision


@transaction.atomic
def add_comment(statement: Statement, *, by: User, body: str, revision: Revision | None = None) -> Comment:
    """Member staff comment on a draft; the comment is tied to the revision it was written on
    (the current one unless said otherwise)."""
    statement = _locked(statement)
    permissions.require(permissions.can_comment(by, statement))
    body = text.normalise(body)
    if not body:
        raise ValidationError(_("Write a comment first."), code="empty")
    if len(body) > COMMENT_MAX_LENGTH:
        raise ValidationError(_("A comment can be at most %(n)d characters long.") % {"n": COMMENT_MAX_LENGTH},
                              code="too_long")
    revision = revision or statement.current_revision
    if revision.statement_id != statement.pk:
        raise ValidationError(_("That revision belongs to another statement."), code="revision")
    comment = Comment.objects.create(statement=statement, revision=revision, author=by, body=body)
    audit.record(by, "statement.commented", statement, comment=comment.pk, revision=revision.number)
    return comment


@transaction.atomic
def resolve_comment(comment: Comment, *, by: User) -> Comment:
    """A coordinator marks a comment as dealt with."""
    comment = Comment.objects.select_for_update().select_related("statement__coalition").get(pk=comment.pk)
    permissions.require(permissions.can_resolve_comment(by, comment))
    if comment.is_resolved:
        raise ValidationError(_("This comment is already resolved."), code="resolved")
    comment.resolved_at, comment.resolved_by = timezone.now(), by
    comment.save(update_fields=["resolved_at", "resolved_by"])
    audit.record(by, "statement.comment_resolved", comment.statement, comment=comment.pk)
    return comment
