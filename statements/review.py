"""What a coordinator's step would do, read before it is taken: the review page's findings.

Opening, closing, reopening, publishing, correcting and withdrawing cannot be taken back quietly:
they email people, stop or restart signing, or put a signed PDF in public. `review()` answers, in
one place and without changing anything, what the step will do (who is emailed, how many) and
what looks wrong (a translation left out of the PDF, a comment nobody resolved, organisations that
will not be named, members nobody may sign for). The review page shows it; the action's POST
checks `fingerprint` so a coordinator confirms the warnings they read, not newer ones.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from coalition.models import CoalitionRole, Membership

from . import selectors
from .models import Comment, Signature, Statement
from .workflow import Transition

# Which problems each step warns about. Translations and comments matter where the text is
# fixed or published; organisations that signed an earlier text where signatories are counted.
WARNS = {
    Transition.OPEN: {"stale_translations", "unresolved_comments", "unsignable"},
    Transition.REOPEN: {"earlier", "unsignable"},
    Transition.CLOSE: {"earlier", "unsignable", "stale_translations", "unresolved_comments"},
    Transition.PUBLISH: {"stale_translations", "unresolved_comments", "earlier", "few_signed"},
    Transition.CORRECT: {"stale_translations", "unresolved_comments", "earlier"},
    Transition.WITHDRAW: set(),
}


@dataclass
class Emails:
    """How many messages the step sends (fewer if someone turned these messages off), by who
    receives them; `at_release` when they go out once the issue becomes public."""

    signers: int = 0  # staff who may sign for an organisation (or who signed for one)
    staff: int = 0  # the coalition's coordinators not counted among the signers
    individuals: int = 0  # people who signed as themselves
    subscribers: int = 0  # the public's confirmed subscriptions
    at_release: bool = False

    @property
    def total(self) -> int:
        return self.signers + self.staff + self.individuals + self.subscribers


@dataclass
class Review:
    statement: Statement
    transition: Transition
    emails: Emails
    members: int  # current member organisations and invited partners
    signed: int
    declined: int
    no_answer: int
    individuals: int  # individuals named (confirmed, on the signed text)
    stale_translations: list = field(default_factory=list)  # selectors.Translation, out of date
    unresolved_comments: list = field(default_factory=list)  # Comment
    earlier: list = field(default_factory=list)  # Signature on an earlier text: not named
    unsignable: list = field(default_factory=list)  # Organisation: a member nobody may sign for
    deadline: datetime | None = None
    public_from: datetime | None = None

    @property
    def deadline_passed(self) -> bool:
        return self.deadline is not None and self.deadline <= timezone.now()

    @property
    def few_signed(self) -> bool:
        """Fewer than half the member organisations signed."""
        return self.members > 0 and self.signed * 2 < self.members

    @property
    def warnings(self) -> list[str]:
        """The names of the problems found, among those this step warns about."""
        return [name for name in ("stale_translations", "unresolved_comments", "earlier", "unsignable", "few_signed")
                if name in WARNS[self.transition] and getattr(self, name)]

    @property
    def fingerprint(self) -> str:
        """Names what was warned about: a POST whose fingerprint differs was confirmed on
        warnings that have changed since."""
        parts = [self.transition.value, *self.warnings,
                 *(f"t{t.revision.pk}" for t in self.stale_translations),
                 *(f"c{c.pk}" for c in self.unresolved_comments),
                 *(f"e{s.pk}" for s in self.earlier), *(f"u{o.pk}" for o in self.unsignable)]
        return hashlib.sha256(" ".join(parts).encode()).hexdigest()[:32]


def _opening_recipients(statement: Statement, rows) -> Emails:
    """Those told that signing opens (and reopens, and of a new deadline): everyone who may sign
    for a member organisation or invited partner, and the coordinators, once each."""
    signers = {user.pk for row in rows for user in row.signers if user.is_active}
    staff = set(CoalitionRole.objects.filter(coalition=statement.coalition, role=CoalitionRole.Role.COORDINATOR,
                                             user__is_active=True).values_list("user_id", flat=True)) - signers
    return Emails(signers=len(signers), staff=len(staff))


def _release_recipients(statement: Statement, revision_id: int) -> Emails:
    """Those told when an issue becomes public (`notifications.write_publication_released`):
    who signed it for an organisation, individuals who signed it, and subscribers; each address
    once. Counted in the database: a statement may have 100,000 individual signatures."""
    named = statement.signatures.counted().filter(revision_id=revision_id)
    signers = (named.filter(kind=Signature.Kind.ORGANISATION, signed_by__isnull=False)
               .annotate(address=Lower("signed_by__email")).values("address"))
    individuals = (named.filter(kind=Signature.Kind.INDIVIDUAL, email__isnull=False).exclude(email="")
                   .annotate(address=Lower("email")).exclude(address__in=signers).values("address"))
    subscribers = (selectors.confirmed_subscribers().annotate(address=Lower("email"))
                   .exclude(address__in=signers).exclude(address__in=individuals))
    return Emails(signers=signers.distinct().count(), individuals=individuals.distinct().count(),
                  subscribers=subscribers.values("address").distinct().count(), at_release=True)


def _earlier(statement: Statement) -> list[Signature]:
    """The live signatures on an earlier text (`selectors.Signatories.earlier`), without reading
    those on the text to be signed: organisations, then individuals, by name."""
    found = list(statement.signatures.counted().exclude(revision_id=statement.signed_revision_id)
                 .select_related("organisation", "revision"))
    return sorted(found, key=lambda s: (s.kind != Signature.Kind.ORGANISATION,
                                        selectors.name_key(s.organisation.name if s.organisation_id else s.name)))


def review(statement: Statement, transition: Transition, *, deadline: datetime | None = None,
           public_from: datetime | None = None) -> Review:
    """The findings for taking `transition` on `statement` now (with the deadline or release time
    the coordinator gave). Read-only; a fixed number of queries but for the subscribers' addresses."""
    roster = selectors.roster(statement)
    members = set(Membership.objects.current().filter(coalition=statement.coalition)
                  .values_list("organisation_id", flat=True))
    rows = [row for row in roster.rows if row.organisation.pk in members or row.partner]
    if transition in (Transition.OPEN, Transition.REOPEN):
        emails = _opening_recipients(statement, rows)
    elif transition in (Transition.PUBLISH, Transition.CORRECT):
        emails = _release_recipients(statement, statement.signed_revision_id or statement.current_revision_id)
    else:
        emails = Emails()  # closing and withdrawing tell nobody
    individuals = (statement.signatures.counted()
                   .filter(kind=Signature.Kind.INDIVIDUAL, revision_id=statement.signed_revision_id).count()
                   if statement.signed_revision_id else 0)
    earlier = _earlier(statement) if statement.signed_revision_id else []
    return Review(
        statement=statement, transition=transition, emails=emails, members=len(rows),
        signed=sum(row.status == "signed" for row in rows), declined=sum(row.status == "declined" for row in rows),
        no_answer=sum(row.status == "no_answer" for row in rows), individuals=individuals,
        stale_translations=[t for t in selectors.translations(statement) if t.out_of_date],
        unresolved_comments=list(Comment.objects.filter(statement=statement, resolved_at__isnull=True)
                                 .select_related("author", "revision")),
        earlier=earlier,
        unsignable=[row.organisation for row in rows
                    if not row.signature and not any(user.is_active for user in row.signers)],
        # Opening sets the deadline given; reopening keeps the old one unless given a new one.
        deadline=deadline if transition is Transition.OPEN else deadline or statement.deadline,
        public_from=public_from,
    )


def unconfirmed(data, findings: Review) -> str | None:
    """Why a POST is not a confirmation of `findings`, or None if it is: it must come from the
    review page (`reviewed`), carry the fingerprint of the warnings shown there, and, when there
    are warnings, the coordinator's acknowledgement."""
    if data.get("reviewed") != "1":
        return _("Nothing was done: read what this step will do below, then confirm it.")
    if data.get("fingerprint") != findings.fingerprint:
        return _("Nothing was done: the warnings changed since the review page was shown. Read them again, "
                 "then confirm.")
    if findings.warnings and data.get("acknowledged") != "on":
        return _("Nothing was done: tick “I have read the warnings” to confirm despite them.")
    return None
