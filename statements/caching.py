"""What of the stored public pages (coalition/caching.py) is about statements: the versions of
one statement (`public-pages:statement:<pk>`, its status, texts and publications) and of its
signatures (`public-pages:signatures:<pk>`, which may lag), the campaigns the front page and the
archive list, the receivers that move them when a row is saved, and a statement page's stored
values. See coalition/caching.py for how a stored copy is served and renewed.

A statement's version also moves with its comments (on no public page, but a signed-in page
stores them) and with the names of its texts' and comments' authors: a signed-in page stores the
statement's row (with its coalition, found by the address it was last read at), its comments,
translations and issues as `statement_value`s. What the visitor may do is asked of the database
on every page."""

import hashlib

from django.core.cache import cache
from django.db.models import Q

from coalition.caching import ARCHIVE, SITE, TIMEOUT, tolerant, changed, may_lag, stored_or_render, versions

from .models import Comment, Publication, Revision, Signature, Statement

# The statements open to individuals that the front page and archive list (statements/campaign.py):
# which they are (a hard change), and their signature counts (soft, as a statement's signatures).
CAMPAIGNS = "public-pages:campaigns"
CAMPAIGN_COUNTS = "public-pages:campaign-counts"


def statement_key(statement_id: int) -> str:
    return f"public-pages:statement:{statement_id}"


def signatures_key(statement_id: int) -> str:
    return f"public-pages:signatures:{statement_id}"


# Signatures only add to a page: a copy behind in them may be served a few seconds longer.
may_lag("public-pages:signatures:", CAMPAIGN_COUNTS)


def statement_versions(statement_id: int) -> dict[str, int]:
    return versions([SITE, statement_key(statement_id), signatures_key(statement_id)])


def public_pages_changed(sender=None, instance=None, **kwargs) -> None:
    """Signal receiver: a saved row changes the pages that show it (see the module's doc). An
    individual's signature not yet confirmed is on no public page (its confirmation is saved
    again), so it changes nothing."""
    public = (Statement.Status.PUBLISHED, Statement.Status.WITHDRAWN)
    if isinstance(instance, Signature):
        if instance.kind == Signature.Kind.INDIVIDUAL and not instance.confirmed_at:
            return
        changed(signatures_key(instance.statement_id), CAMPAIGN_COUNTS)  # a published statement's never change
    elif isinstance(instance, Statement):
        changed(statement_key(instance.pk), *([ARCHIVE] if instance.status in public else []),
                *([CAMPAIGNS] if instance.allows_individuals else []))
    elif isinstance(instance, Revision):
        is_public = instance.statement.status in public
        changed(statement_key(instance.statement_id), *([ARCHIVE] if is_public else []))
    elif isinstance(instance, Publication):
        changed(statement_key(instance.statement_id), ARCHIVE)
    elif isinstance(instance, Comment):  # on no public page, but signed-in pages store the comments
        changed(statement_key(instance.statement_id))
    else:  # coalitions, organisations, memberships: names shown everywhere
        changed(SITE)


def author_renamed(sender=None, instance=None, created=False, update_fields=None, **kwargs) -> None:
    """Signal receiver: a person's name or address, which is how a text's author is shown, may have
    changed; the statements whose shown texts or comments they wrote (or resolved) are renewed
    (stored with their authors: `statement_value`'s "row" and "comments")."""
    if created or (update_fields is not None and not {"name", "email"} & set(update_fields)):
        return
    wrote = (Q(current_revision__author=instance) | Q(signed_revision__author=instance)
             | Q(comments__author=instance) | Q(comments__resolved_by=instance))
    keys = [statement_key(pk) for pk in Statement.objects.filter(wrote).values_list("pk", flat=True).distinct()]
    if keys:
        changed(*keys)


def request_statement_versions(request, statement_id: int) -> dict | None:
    """A statement's versions, read once for the request (its fragments and values all depend on
    them), before any of what they stand for is read. None if the cache cannot be reached."""
    if request is None:
        return None
    read = request.__dict__.setdefault("_statement_versions", {})
    if statement_id not in read:
        read[statement_id] = tolerant(statement_versions)(statement_id)
    return read[statement_id]


def statement_value(request, statement_id: int, name: str, compute, keep=None):
    """What `compute()` gives about one statement (its translations, its issues), stored like a
    fragment: renewed when the statement's texts, status or publications change, so a signed-in
    page need not ask the database again. Only for what follows from those rows (pass anything of
    the visitor's own that it depends on in `name`), never for anything carrying a form token.
    `keep`: as for `stored_or_render`."""
    storing_page = getattr(request, "_public_page_versions", None) is not None
    return stored_or_render(f"public-value:{name}:{statement_id}", lambda: statement_versions(statement_id),
                            compute, stale_allowed=not storing_page,
                            known=request_statement_versions(request, statement_id), keep=keep)


def _address_key(slug: str) -> str:
    return f"statement-address:{hashlib.sha256(slug.encode()).hexdigest()}"


@tolerant
def statement_at_address(slug: str) -> int | None:
    """The id of the statement last read at the address `slug` (`remember_address`), if known: a
    hint, checked against the row it leads to."""
    return cache.get(_address_key(slug))


@tolerant
def remember_address(slug: str, statement_id: int) -> None:
    cache.set(_address_key(slug), statement_id, TIMEOUT)


def page_depends_on(request, statement) -> None:
    """The page being made is about `statement`: its copy is renewed with the statement's own
    versions, not the archive's. Called right after the statement's row is read and before its
    texts and signatures are: only a change committed and announced in between (well under a
    millisecond) could leave its copy behind, until the next change or TIMEOUT."""
    if getattr(request, "_public_page_versions", None) is not None:
        request._public_page_versions = tolerant(statement_versions)(statement.pk)
