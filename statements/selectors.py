"""Read-only questions about statements that several pages ask."""

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from coalition import audit, permissions
from coalition.models import Coalition, Membership

from . import text
from .models import Revision, Statement

Status = Statement.Status


def _with_text(queryset: QuerySet) -> QuerySet:
    return queryset.select_related("coalition", "current_revision")


def published_statements() -> QuerySet:
    """Published statements, and those withdrawn after publication (shown marked withdrawn)."""
    public = Statement.objects.filter(status__in=[Status.PUBLISHED, Status.WITHDRAWN], published_at__isnull=False)
    return _with_text(public).order_by(
        "-published_at", "-created_at"
    )


def member_coalitions(user) -> QuerySet:
    """Coalitions whose drafts `user` sees: through a current member organisation, or as coordinator."""
    if not user.is_authenticated:
        return Coalition.objects.none()
    through_staff = Membership.objects.current().filter(organisation__roles__user=user).values("coalition")
    return Coalition.objects.filter(Q(pk__in=through_staff) | Q(roles__user=user)).distinct()


def my_drafts(user) -> QuerySet:
    """Drafts `user` started or edited, in coalitions where they still see drafts."""
    return _with_text(
        Statement.objects.filter(status=Status.DRAFT, coalition__in=member_coalitions(user), revisions__author=user)
    ).distinct().order_by("-created_at")


def colleagues_drafts(user) -> QuerySet:
    """The other drafts of the coalitions `user` works in."""
    return _with_text(
        Statement.objects.filter(status=Status.DRAFT, coalition__in=member_coalitions(user))
        .exclude(revisions__author=user)
    ).distinct().order_by("-created_at")


def open_for_my_organisations(user) -> QuerySet:
    """Statements open for signature in coalitions that one of `user`'s organisations belongs to."""
    if not user.is_authenticated:
        return Statement.objects.none()
    coalitions = Membership.objects.current().filter(organisation__roles__user=user).values("coalition")
    return _with_text(Statement.objects.filter(status=Status.OPEN, coalition__in=coalitions)).order_by(
        "deadline", "-opened_at"
    )


def awaiting_coordinators(user) -> QuerySet:
    """In the coalitions `user` coordinates: drafts to open, open ones to close, closed ones to publish."""
    coalitions = permissions.coordinated_coalitions(user)
    return _with_text(
        Statement.objects.filter(coalition__in=coalitions, status__in=[Status.DRAFT, Status.OPEN, Status.CLOSED])
    ).order_by("status", "deadline", "-created_at")


def revisions(statement: Statement) -> QuerySet:
    return statement.revisions.select_related("author", "translation_of").order_by("-number")


def latest_by_language(statement: Statement) -> dict[str, Revision]:
    latest: dict[str, Revision] = {}
    for revision in statement.revisions.select_related("translation_of", "author").order_by("number"):
        latest[revision.language] = revision
    return latest


@dataclass
class Translation:
    revision: Revision
    out_of_date: bool  # the original has a newer revision than the one this translates


def translations(statement: Statement) -> list[Translation]:
    """The latest revision in each language other than the original's."""
    current = statement.current_revision_id
    return [
        Translation(revision, out_of_date=revision.translation_of_id != current)
        for language, revision in latest_by_language(statement).items()
        if language != statement.primary_language
    ]


@dataclass
class FieldDiff:
    label: str
    chunks: list[text.Chunk]

    @property
    def changed(self) -> bool:
        return text.has_changes(self.chunks)


def diff(old: Revision, new: Revision, labels: dict[str, str]) -> list[FieldDiff]:
    """The word-level difference between two revisions, field by field (title, summary, text)."""
    return [FieldDiff(labels[name], text.word_diff(getattr(old, name), getattr(new, name)))
            for name in ("title", "summary", "body")]


def history(statement: Statement) -> QuerySet:
    return audit.events_for(statement).select_related("actor").order_by("-id")
