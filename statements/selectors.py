"""Read-only questions about statements that several pages ask."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.db import connection
from django.db.models import BooleanField, Case, Count, F, FloatField, Func, Max, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone

from coalition import audit, names, permissions
from coalition.models import Coalition, Membership, Organisation, OrganisationRole

from . import search, text
from .models import Decline, Publication, Reminder, Revision, SearchText, Signature, Statement, Subscriber

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
    """Coalitions whose drafts `user` sees: on a current member organisation's staff for that
    coalition, or as coordinator."""
    if not user.is_authenticated:
        return Coalition.objects.none()
    through_staff = Membership.objects.current().filter(
        organisation__roles__user=user, organisation__roles__coalition=F("coalition")).values("coalition")
    return Coalition.objects.filter(Q(pk__in=through_staff) | Q(roles__user=user)).distinct()


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


def translations(statement: Statement, *, stale: bool = True) -> list[Translation]:
    """The latest revision in each language other than the original's.

    The stale-translation rule: a translation of an earlier text (`out_of_date`) is shown only to
    the coalition's member staff, marked "out of date"; the public (statement page, API, search,
    PDF) reads only translations of the current text. Pass `stale=False` for the public's list."""
    current = statement.current_revision_id
    found = [
        Translation(revision, out_of_date=revision.translation_of_id != current)
        for language, revision in latest_by_language(statement).items()
        if language != statement.primary_language
    ]
    return found if stale else [t for t in found if not t.out_of_date]


# The reader's language ---------------------------------------------------------------------------

def public_text(statement: Statement) -> Revision | None:
    """The original text the public reads: the signed text once signing has started, else the
    current one (the same revision whenever both are set: an edit while open re-freezes it)."""
    if statement.signed_revision_id and statement.signed_revision_id != statement.current_revision_id:
        return statement.signed_revision
    return statement.current_revision


@dataclass(frozen=True)
class ReaderText:
    """A statement as a reader of one language reads it: `revision` is its translation into that
    language when a current one exists, else `original` (the text the public reads, in the
    statement's own language). Lists, feeds, emails and the API all name a statement by it."""

    revision: Revision
    original: Revision

    @property
    def title(self) -> str:
        return self.revision.title

    @property
    def summary(self) -> str:
        return self.revision.summary

    @property
    def language(self) -> str:
        return self.revision.language

    @property
    def is_translation(self) -> bool:
        return self.revision.pk != self.original.pk


def latest_translations(statement_ids, language: str, *, stale: bool = False, text: bool = True) -> dict[int, Revision]:
    """The latest revision in `language` of each statement (by its id), in one query, whatever the
    number of statements; one in the statement's own language is never a translation, so give only
    statements of another. The stale-translation rule of `translations`: unless `stale` (member
    staff), only one that translates the text the public reads counts; an older one is left out,
    not replaced by an earlier translation. `text=False` leaves the bodies unread (lists)."""
    statement_ids = list(statement_ids)
    if not statement_ids:
        return {}
    newest = (Revision.objects.filter(statement_id=OuterRef("statement_id"), language=language)
              .order_by("-number").values("number")[:1])
    found = Revision.objects.filter(statement_id__in=statement_ids, language=language, number=Subquery(newest),
                                    translation_of__isnull=False)
    if not stale:
        found = found.filter(Q(translation_of=F("statement__signed_revision"))
                             | Q(statement__signed_revision__isnull=True,
                                 translation_of=F("statement__current_revision")))
    if not text:
        found = found.defer("body", "body_html")
    return {revision.statement_id: revision for revision in found}


def reader_texts(statements, language: str) -> list[Statement]:
    """`statements` (any iterable: a page of a list), each given `reader`, its `ReaderText` for a
    reader of `language`: two queries at most at any length (the originals, if not selected with
    the statements, and the translations), never one per statement."""
    statements = list(statements)
    missing = [s.signed_revision_id for s in statements
               if s.signed_revision_id and s.signed_revision_id != s.current_revision_id
               and "signed_revision" not in s._state.fields_cache]
    signed = Revision.objects.defer("body", "body_html").in_bulk(missing) if missing else {}
    translated = latest_translations([s.pk for s in statements if s.primary_language != language], language,
                                     text=False) if language else {}
    for statement in statements:
        original = signed.get(statement.signed_revision_id) or public_text(statement)
        statement.reader = ReaderText(translated.get(statement.pk, original), original)
    return statements


def issue_texts(publications, language: str | None) -> list:
    """`publications` (published issues), each given `reader`, the `ReaderText` of its issue's
    text for a reader of `language`: the translation of exactly the revision it published, else
    that revision. One query at any length."""
    publications = list(publications)
    translated = latest_translations({p.statement_id for p in publications if p.revision.language != language},
                                     language, stale=True, text=False) if language else {}
    for publication in publications:
        translation = translated.get(publication.statement_id)
        current = translation is not None and translation.translation_of_id == publication.revision_id
        publication.reader = ReaderText(translation if current else publication.revision, publication.revision)
    return publications


def reader_text(statement: Statement, language: str | None) -> ReaderText:
    """One statement's `ReaderText` for a reader of `language`: one query at most."""
    return reader_text_of(public_text(statement), language)


def reader_text_of(original: Revision, language: str | None) -> ReaderText:
    """What a reader of `language` reads of the text `original` (a revision of a statement's
    original, such as the one an email or an issue is about): its translation into `language`
    if the latest one translates exactly this revision, else `original`. One query at most."""
    if not language or language == original.language:
        return ReaderText(original, original)
    translation = latest_translations([original.statement_id], language, stale=True,
                                      text=False).get(original.statement_id)
    current = translation is not None and translation.translation_of_id == original.pk
    return ReaderText(translation if current else original, original)


def public_languages(statements) -> dict[int, list[str]]:
    """The languages each statement can be read in by the public (its own first, then those of
    its current translations), by statement id: one query per language of the site."""
    statements = list(statements)
    found = {statement.pk: [statement.primary_language] for statement in statements}
    for language, _name in settings.LANGUAGES:
        others = [statement.pk for statement in statements if statement.primary_language != language]
        for statement_id in latest_translations(others, language, text=False):
            found[statement_id].append(language)
    return found


@dataclass
class FieldDiff:
    label: str
    chunks: list[text.Chunk]

    @property
    def changed(self) -> bool:
        return text.has_changes(self.chunks)

    @property
    def coarse(self) -> bool:
        return text.is_coarse(self.chunks)


def diff(old: Revision, new: Revision, labels: dict[str, str]) -> list[FieldDiff]:
    """The word-level difference between two revisions, field by field (title, summary, text)."""
    return [FieldDiff(labels[name], text.word_diff(getattr(old, name), getattr(new, name)))
            for name in ("title", "summary", "body")]


def history(statement: Statement) -> QuerySet:
    return audit.events_for(statement).select_related("actor").order_by("-id")


# Signatures -------------------------------------------------------------------------------------


@dataclass
class Signatories:
    """Who signed, as the statement's page lists them: organisations (in the coordinators' order,
    else alphabetical), then confirmed individuals not hidden (in the order they confirmed).

    Only signatures on the text to be signed (`Statement.signed_revision`, the text published)
    are signatories: they alone are named on the page, in the PDF, the API and the counts.
    `earlier` holds the live signatures on an earlier text whose signers have not confirmed the
    current one (organisations, then individuals): never named in public; member staff see them
    marked "signed an earlier text", and coordinators are told at close and publish that they will
    not be named."""

    organisations: list[Signature]
    individuals: list[Signature]
    earlier: list[Signature] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.organisations) + len(self.individuals)


def on_signed_text(signatures: QuerySet) -> QuerySet:
    """The signatures that make their statements' signatories: counted (live; individuals
    confirmed and not hidden) and on the statement's text to be signed, which is the text it
    published. A signature left on an earlier text after a change while open is not one."""
    return signatures.counted().filter(revision_id=F("statement__signed_revision_id"))


def signatories(statement: Statement) -> Signatories:
    """One query, whatever the number of signatures."""
    organisations, individuals, earlier = [], [], []
    # Only the columns the list shows: a page of 1,000 signatories stays one small query.
    fields = ("kind", "name", "affiliation", "revision", "sha256", "created_at", "rebound_at", "confirmed_at",
              "statement", "organisation__name", "organisation__translations", "organisation__slug", "revision__number")
    for signature in (statement.signatures.counted().select_related("organisation", "revision").only(*fields)
                      .order_by("id")):
        if signature.revision_id != statement.signed_revision_id:
            earlier.append(signature)
        else:
            (organisations if signature.kind == Signature.Kind.ORGANISATION else individuals).append(signature)
    organisations.sort(key=signatory_sort_key(statement))
    individuals.sort(key=lambda s: (s.confirmed_at, s.pk))
    earlier.sort(key=lambda s: (s.kind != Signature.Kind.ORGANISATION,
                                name_key(s.organisation.display_name if s.organisation_id else s.name)))
    return Signatories(organisations, individuals, earlier)


def name_key(name: str) -> str:
    """How names are put in alphabetical order in the active language: case-blind, ignoring
    opening quotes and other marks before the first letter (‘Almenda’ Civic Education Center goes
    under A), in the order of the language's alphabet (coalition/names.py)."""
    return names.sort_key(name)


def signatory_sort_key(statement: Statement):
    """Organisations in the order coordinators set (`Statement.signatory_order`), then the rest
    alphabetically. Takes a signature or an organisation."""
    position = {pk: i for i, pk in enumerate(statement.signatory_order or [])}
    unplaced = len(position)

    def key(item):
        organisation = getattr(item, "organisation", item)
        return (position.get(organisation.pk, unplaced), name_key(organisation.display_name))

    return key


def live_signature_for(statement: Statement, organisation) -> Signature | None:
    return (statement.signatures.live().filter(organisation=organisation)
            .select_related("revision", "signed_by", "organisation").first())


def to_confirm_new_text(statement: Statement) -> QuerySet:
    """The live signatures on an earlier text than the one to be signed whose signers are asked to
    confirm the new one: organisations', and confirmed individuals'."""
    return (statement.signatures.live().exclude(revision=statement.signed_revision)
            .exclude(kind=Signature.Kind.INDIVIDUAL, confirmed_at__isnull=True)
            .select_related("signed_by", "organisation"))


def signing_answers(statement: Statement, organisations) -> list[dict]:
    """What each of `organisations` has answered, for the sign page: its live signature, whether
    it declined (and has not retracted), and, when it has no live signature, its latest withdrawn
    one (an organisation that withdrew is told so, not "not signed yet")."""
    rows = [{"organisation": o, "signature": live_signature_for(statement, o),
             "declined": statement.declines.filter(organisation=o, retracted_at__isnull=True).exists()}
            for o in organisations]
    for row in rows:
        row["withdrawn"] = None if row["signature"] else (
            statement.signatures.filter(organisation=row["organisation"], withdrawn_at__isnull=False)
            .select_related("withdrawn_by").order_by("-withdrawn_at").first())
    return rows


def ever_signed(statement: Statement, organisation) -> bool:
    """Whether `organisation` has signed `statement`, its signature live or withdrawn."""
    return statement.signatures.filter(organisation=organisation).exists()


@dataclass
class RosterRow:
    organisation: Organisation
    partner: bool  # invited from outside the coalition
    signature: Signature | None
    decline: Decline | None
    signers: list  # who may sign for it (users), to ask those that have not answered
    reminded: "Reminded | None" = None  # set by roster_with_reminders()

    @property
    def status(self) -> str:
        """signed (the text to be signed), earlier (signed an earlier text, not confirmed: not a
        signatory), declined, or no_answer."""
        if self.signature:
            return "signed" if self.signature.revision_id == self.signature.statement.signed_revision_id else "earlier"
        return "declined" if self.decline else "no_answer"


@dataclass
class Roster:
    statement: Statement
    rows: list[RosterRow]

    def with_status(self, status: str) -> list[RosterRow]:
        return [row for row in self.rows if row.status == status]

    @property
    def no_answer(self) -> list[RosterRow]:
        return self.with_status("no_answer")

    @property
    def declined(self) -> list[RosterRow]:
        return self.with_status("declined")

    @property
    def signed(self) -> list[RosterRow]:
        return self.with_status("signed")

    @property
    def nobody_may_sign(self) -> list[RosterRow]:
        """Without an answer, and nobody may sign for it: a signer is to be invited."""
        return [row for row in self.no_answer if not row.signers]

    @property
    def earlier(self) -> list[RosterRow]:
        """Signed an earlier text and did not confirm the current one: not named if published now."""
        return self.with_status("earlier")


def roster(statement: Statement) -> Roster:
    """Every current member organisation and invited partner (and any other organisation with a
    live signature, such as one that left the coalition after signing): signed (which text, by
    whom, when), signed an earlier text and not confirmed the current one, declined (with the
    reason), or no answer yet. A fixed number of queries."""
    members = Organisation.objects.filter(
        memberships__coalition=statement.coalition, memberships__left__isnull=True)
    partner_ids = set(statement.invited_partners.values_list("organisation_id", flat=True))
    signatures = {s.organisation_id: s for s in statement.signatures.live()
                  .filter(kind=Signature.Kind.ORGANISATION).select_related("revision", "signed_by")}
    for signature in signatures.values():
        signature.statement = statement  # RosterRow.status compares with the text to be signed
    declines = {d.organisation_id: d for d in statement.declines.filter(retracted_at__isnull=True)
                .select_related("declined_by")}
    organisations = sorted(Organisation.objects.filter(
        Q(pk__in=members.values("pk")) | Q(pk__in=partner_ids) | Q(pk__in=list(signatures))
    ), key=lambda o: name_key(o.display_name))
    signers: dict[int, list] = {}
    for role in (OrganisationRole.objects.filter(organisation__in=organisations, coalition=statement.coalition,
                                                 can_sign=True)
                 .select_related("user").order_by("user__name", "user__email")):
        signers.setdefault(role.organisation_id, []).append(role.user)
    rows = [RosterRow(organisation, organisation.pk in partner_ids, signatures.get(organisation.pk),
                      declines.get(organisation.pk), signers.get(organisation.pk, []))
            for organisation in organisations]
    return Roster(statement, rows)


@dataclass
class Reminded:
    """When an organisation was last reminded about a statement."""

    last: datetime  # by any reminder: the automatic one before the deadline, or a coordinator's
    by_coordinator: datetime | None  # by a coordinator, from the roster

    @property
    def next_possible(self) -> datetime | None:
        """When a coordinator may remind it again, while that is still to come."""
        if self.by_coordinator is None:
            return None
        at = self.by_coordinator + timedelta(hours=settings.SIGNATURE_MANUAL_REMINDER_HOURS)
        return at if at > timezone.now() else None


def reminders(statement: Statement) -> dict[int, Reminded]:
    """The last reminders of each organisation (by primary key), from the `Reminder` rows written
    with them. One query."""
    coordinator = Q(kind=Reminder.Kind.COORDINATOR)
    return {row["organisation_id"]: Reminded(row["last"], row["by_coordinator"])
            for row in statement.reminders.order_by().values("organisation_id")
            .annotate(last=Max("queued_at"), by_coordinator=Max("queued_at", filter=coordinator))}


def roster_with_reminders(statement: Statement) -> Roster:
    """The roster, each organisation without an answer carrying `reminded` (a `Reminded`, or
    None if it never was). A fixed number of queries."""
    result = roster(statement)
    found = reminders(statement)
    for row in result.no_answer:
        row.reminded = found.get(row.organisation.pk)
    return result


def signatures_for_export(statement: Statement) -> QuerySet:
    """The signatories: organisations' live signatures, then confirmed individuals' (hidden ones
    left out), on the text to be signed. Those left on an earlier text are on the roster, not here."""
    return (statement.signatures.counted().filter(revision_id=statement.signed_revision_id)
            .select_related("organisation", "signed_by", "revision")
            .order_by("-kind", "organisation__name", "confirmed_at", "id"))  # organisations first


# Lists that stay small --------------------------------------------------------------------------

RECENT_INDIVIDUALS = 20  # named on the statement's page; the rest are on its list of signatories
EARLIER_INDIVIDUALS_SHOWN = 100  # individuals on an earlier text named to member staff; the rest counted


def frozen_name(organisation: dict | str, language: str) -> str:
    """An organisation of an issue's frozen list by its name in `language`. Issues made before
    names had languages hold one name (and the earliest, a bare name instead of a dict): it
    serves for all."""
    if not isinstance(organisation, dict):
        return organisation
    return (organisation.get("names") or {}).get(language) or organisation["name"]


def published_organisations(statement: Statement) -> dict[str, dict]:
    """The organisations of the statement's newest public issue, by address name (slug), as
    frozen into it: their names when it was published. Empty before it is published. One query,
    of the frozen organisations only (not the individuals, who can be many)."""
    if statement.status not in (Status.PUBLISHED, Status.WITHDRAWN):
        return {}
    frozen = (statement.publications.public().order_by("-number")
              .values_list("signatories__organisations", flat=True).first()) or []
    return {entry["slug"]: entry for entry in frozen if isinstance(entry, dict) and entry.get("slug")}


def _signed_as(statement: Statement, organisations: list[Signature]) -> None:
    """Each organisation signature of a published statement learns the names it was published
    under (`published`, the frozen entry) and, when that differs from its name now in the active
    language, `signed_as`: the page says both, as the PDF keeps the first."""
    published = published_organisations(statement)
    language = names.active_language()
    for signature in organisations:
        signature.published = published.get(signature.organisation.slug)
        then = frozen_name(signature.published, language) if signature.published else ""
        signature.signed_as = then if then and then != signature.organisation.display_name else ""


@dataclass
class SignatorySummary:
    """The signatories as the statement's page shows them, at any number of individuals:
    organisations in full (coordinators' order, else alphabetical; once published, each with the
    name it was published under where it has changed since, `signed_as`); individuals as a count and
    the most recent ones (newest first); the full list is `individuals_on_signed_text`, paged.

    `earlier` (for member staff only) holds the live signatures on an earlier text whose signers
    have not confirmed the current one, as in `Signatories`: all organisations, and at most
    EARLIER_INDIVIDUALS_SHOWN individuals of `earlier_count`. A fixed number of queries (three,
    one more once published, one more with `earlier` individuals), each bounded: nothing grows
    with the individuals but a count."""

    organisations: list[Signature]
    individual_count: int
    recent_individuals: list[Signature]
    earlier: list[Signature] = field(default_factory=list)
    earlier_count: int = 0

    @property
    def count(self) -> int:
        return len(self.organisations) + self.individual_count

    @property
    def more_individuals(self) -> bool:
        """Some individuals are not named on the page: the list of signatories has them."""
        return self.individual_count > len(self.recent_individuals)

    @property
    def earlier_unlisted(self) -> int:
        return self.earlier_count - len(self.earlier)


def _confirmed_individuals(statement: Statement) -> QuerySet:
    """`counted()` individuals, spelt without its OR so that PostgreSQL matches the condition of
    the partial index `signature_confirmed_people` (counts and slices read only the index)."""
    return statement.signatures.filter(kind=Signature.Kind.INDIVIDUAL, withdrawn_at__isnull=True,
                                       confirmed_at__isnull=False, hidden_at__isnull=True)


def individuals_on_signed_text(statement: Statement, q: str = "") -> QuerySet:
    """The statement's individual signatories (confirmed, not hidden or withdrawn, on the text to
    be signed), in the order they confirmed: the order of the PDF, and a stable one for pages
    (a new signature goes to the end). `q` matches name or affiliation, case-insensitively
    (`icontains`: on PostgreSQL a scan of this statement's rows only, through the
    `signature_confirmed_people` index; the pages bound what is read). Only the columns
    a list shows; never the address."""
    found = _confirmed_individuals(statement).filter(revision_id=statement.signed_revision_id)
    if q:
        found = found.filter(Q(name__icontains=q) | Q(affiliation__icontains=q))
    # "statement" too: the related manager sets each row's statement from it (no query per row).
    return found.only("statement", "name", "affiliation", "confirmed_at").order_by("confirmed_at", "id")


def roster_individuals(statement: Statement, q: str = "") -> QuerySet:
    """For coordinators: every live individual signature (unconfirmed, hidden, on an earlier text
    too), newest first, to be paged; `q` matches name, affiliation or address, case-insensitively."""
    found = statement.signatures.live().filter(kind=Signature.Kind.INDIVIDUAL)
    if q:
        found = found.filter(Q(name__icontains=q) | Q(affiliation__icontains=q) | Q(email__icontains=q))
    return found.select_related("hidden_by", "revision").order_by("-created_at", "-id")


def signatory_summary(statement: Statement, *, earlier: bool = False,
                      recent: int = RECENT_INDIVIDUALS) -> SignatorySummary:
    """The statement page's signatories (see `SignatorySummary`); `earlier` for member staff."""
    organisations, earlier_organisations = [], []
    fields = ("kind", "revision", "sha256", "created_at", "rebound_at", "statement",
              "organisation__name", "organisation__translations", "organisation__slug", "revision__number")
    for signature in (statement.signatures.live().filter(kind=Signature.Kind.ORGANISATION)
                      .select_related("organisation", "revision").only(*fields)):
        on_signed_text_ = signature.revision_id == statement.signed_revision_id
        (organisations if on_signed_text_ else earlier_organisations).append(signature)
    organisations.sort(key=signatory_sort_key(statement))
    _signed_as(statement, organisations)
    on_text = Q(revision_id=statement.signed_revision_id)
    counts = _confirmed_individuals(statement).aggregate(
        on_text=Count("id", filter=on_text), earlier=Count("id", filter=~on_text))
    recent_found = list(individuals_on_signed_text(statement).order_by("-confirmed_at", "-id")[:recent])
    summary = SignatorySummary(organisations, counts["on_text"], recent_found)
    if earlier:
        earlier_organisations.sort(key=lambda s: name_key(s.organisation.display_name))
        earlier_individuals = list(
            _confirmed_individuals(statement).exclude(on_text).select_related("revision")
            .only("statement", "kind", "organisation", "name", "revision__number").order_by("name", "id")[:EARLIER_INDIVIDUALS_SHOWN]
        ) if counts["earlier"] else []
        summary.earlier = earlier_organisations + earlier_individuals
        summary.earlier_count = len(earlier_organisations) + counts["earlier"]
    return summary


# The public archive -----------------------------------------------------------------------------

@dataclass
class ArchiveFilters:
    q: str = ""
    organisation: Organisation | None = None
    year: int | None = None
    language: str = ""


def _published_texts() -> QuerySet:
    """The revisions the public reads: the signed (or current) text of a public statement and
    its translations; earlier drafts are never searched."""
    return Revision.objects.filter(
        Q(pk=F("statement__signed_revision")) | Q(pk=F("statement__current_revision"))
        | Q(translation_of=F("statement__signed_revision")) | Q(translation_of=F("statement__current_revision")),
        statement__in=published_statements().values("pk"),
    )


class _TextSearch(Func):
    """PostgreSQL: does the stored tsvector match the tsquery `tsquery` (`match=True`), or its
    score (see `_matching_texts`)? `vector` has a GIN index (migration 0016)."""

    def __init__(self, tsquery: str, match: bool = False):
        self.match = match
        super().__init__(F("vector"), Value(tsquery), output_field=BooleanField() if match else FloatField())

    def as_sql(self, compiler, connection, **extra):
        (vector, vector_params), (tsquery, query_params) = (compiler.compile(e) for e in self.get_source_expressions())
        tsquery = f"({tsquery})::tsquery"
        if self.match:
            return f"{vector} @@ {tsquery}", [*vector_params, *query_params]
        sql = (f"(CASE WHEN ts_filter({vector}, '{{a}}') @@ {tsquery} THEN 4 ELSE 0 END"
               f" + CASE WHEN ts_filter({vector}, '{{b}}') @@ {tsquery} THEN 2 ELSE 0 END"
               f" + ts_rank({vector}, {tsquery}, 32))")
        return sql, [*vector_params, *query_params] * 3


def _terms_match(query: search.Query, column: str) -> Q:
    """SQLite: the stored terms in `column` (each between spaces) match `query`."""
    def word(alternatives) -> Q:
        found = Q()
        for term in sorted(alternatives):
            found |= Q(**{f"{column}__contains": f" {term} "})
        return found

    matched = Q()
    for group in query.groups:
        either = Q()
        for clause in group:
            every = Q()
            for alternatives in clause.words:  # a phrase is taken as its words
                every &= word(alternatives)
            either |= ~every if clause.negated else every
        matched &= either
    return matched


def _positive(query: search.Query) -> search.Query:
    return search.Query([[c for c in group if not c.negated] for group in query.groups
                         if all(not c.negated for c in group)])


def _matching_texts(query: search.Query) -> QuerySet:
    """The search terms of public texts matching `query`, each with its `score`: 4 if its title
    matches, plus 2 if its summary does, plus (PostgreSQL) ts_rank's measure of the whole, below 1."""
    texts = SearchText.objects.filter(revision__in=_published_texts().values("pk"))
    if connection.vendor == "postgresql":
        tsquery = query.tsquery()
        return texts.filter(_TextSearch(tsquery, match=True)).annotate(score=_TextSearch(tsquery))
    positive = _positive(query)
    if not positive:  # only excluded words: every text without them matches, none first
        return texts.filter(_terms_match(query, "terms")).annotate(score=Value(0.0))
    return texts.filter(_terms_match(query, "terms")).annotate(score=Case(
        When(_terms_match(positive, "title_terms"), then=Value(4.0)), default=Value(0.0)) + Case(
        When(_terms_match(positive, "summary_terms"), then=Value(2.0)), default=Value(0.0)))


@lru_cache(maxsize=4096)
def _name_terms(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(term for name in names for word in search.words(name) for term in search.terms_of(word))


def _organisations_named(query: search.Query) -> list[int]:
    """Organisations that signed a public statement and whose name, in any language, matches."""
    if not query.wanted:
        return []
    return [organisation.pk for organisation in signing_organisations()
            if query.matches_terms(_name_terms(tuple(organisation.all_names())))]


def search_archive(filters: ArchiveFilters) -> QuerySet:
    """Public statements matching the words `q` (in any language version, or in the name of an
    organisation that signed), signed by `organisation`, published in `year`, available in
    `language`. Newest first; with `q`, those matching in a title first, then in a summary, then
    the rest by how well they match (statements.search reads Ukrainian and English words in any
    of their forms)."""
    statements = published_statements()
    query = search.parse(filters.q) if filters.q else None
    if query is not None and not query:  # no word in it (punctuation alone): nothing matches
        return statements.none()
    if query is not None:
        texts = _matching_texts(query)
        named = on_signed_text(Signature.objects.filter(organisation__in=_organisations_named(query)))
        statements = statements.filter(Q(pk__in=texts.values("revision__statement_id"))
                                       | Q(pk__in=named.values("statement_id"))).annotate(
            score=Subquery(texts.filter(revision__statement_id=OuterRef("pk")).order_by("-score")
                           .values("score")[:1])
        ).order_by(F("score").desc(nulls_last=True), "-published_at", "-created_at")
    if filters.organisation is not None:
        statements = statements.filter(pk__in=on_signed_text(Signature.objects.filter(
            organisation=filters.organisation)).values("statement_id"))
    if filters.year:
        statements = statements.filter(published_at__year=filters.year)
    if filters.language:
        statements = statements.filter(pk__in=_published_texts().filter(
            language=filters.language).values("statement_id"))
    return statements


def snippets(statements, q: str, language: str) -> None:
    """Give each of `statements` (a page of results) `snippet`: a passage of its public text where
    `q` matched, the words found marked (statements.search.snippet), read first in `language`,
    then in the others; the text before the summary (which the list shows already), the title
    last. One query for the page."""
    query = search.parse(q)
    statements = list(statements)
    texts: dict[int, list[Revision]] = {}
    for revision in _published_texts().filter(statement__in=[s.pk for s in statements]).order_by("number"):
        texts.setdefault(revision.statement_id, []).append(revision)
    for statement in statements:
        statement.snippet, statement.snippet_language = "", ""
        revisions = sorted(texts.get(statement.pk, []), key=lambda r: (r.language != language, -r.number))
        for revision in revisions:
            if found := search.snippet([revision.body, revision.summary, revision.title], query):
                statement.snippet, statement.snippet_language = found, revision.language
                break


def archive_years() -> list[int]:
    return [d.year for d in published_statements().dates("published_at", "year", order="DESC")]


def signed_by(organisation: Organisation) -> QuerySet:
    """The public statements an organisation signed (the text published; not withdrawn)."""
    return search_archive(ArchiveFilters(organisation=organisation))


def signing_organisations() -> QuerySet:
    """Organisations that signed at least one public statement: the archive's organisation filter."""
    signed = on_signed_text(Signature.objects.filter(statement__in=published_statements().values("pk")))
    return Organisation.objects.filter(pk__in=signed.values("organisation_id")).order_by("name")


# Issues (publications) ----------------------------------------------------------------------


class IssueState:
    CURRENT = "current"
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class IssueStatus:
    """What a public issue stands for today: the statement's current text (`current`), replaced
    by a later public issue (`superseded`: `superseded_by` is the newest, `note` its correction
    note, `corrections` every later issue in order), or withdrawn by the coalition (`withdrawn`,
    with `withdrawn_at` and `reason`). A withdrawn statement's older issue still names the issue
    that superseded it. Verification, the feed and the API all read it from here."""

    state: str
    superseded_by: Publication | None = None
    note: str = ""
    corrections: tuple[Publication, ...] = ()
    withdrawn_at: datetime | None = None
    reason: str = ""

    @property
    def superseded_by_number(self) -> int | None:
        return self.superseded_by.number if self.superseded_by else None


def _status(statement: Statement, later: list[Publication]) -> IssueStatus:
    newest = later[-1] if later else None
    extra = {"superseded_by": newest, "note": newest.correction_note if newest else "",
             "corrections": tuple(later)}
    if statement.status == Statement.Status.WITHDRAWN:
        return IssueStatus(IssueState.WITHDRAWN, withdrawn_at=statement.withdrawn_at,
                           reason=statement.withdrawal_reason, **extra)
    return IssueStatus(IssueState.SUPERSEDED if newest else IssueState.CURRENT, **extra)


def statuses(statement: Statement, public: list[Publication] | None = None) -> dict[int, IssueStatus]:
    """Every public issue of `statement` by number, with its status. Only public issues can
    supersede: an embargoed correction says nothing before its release. `public` (the statement's
    public issues) saves the query when the caller has them already."""
    if public is None:
        public = list(statement.publications.public().defer("signatories").order_by("number"))
    public = sorted(public, key=lambda p: p.number)
    return {p.number: _status(statement, public[at + 1:]) for at, p in enumerate(public)}


def statuses_of(publications: list[Publication]) -> dict[int, IssueStatus]:
    """The status of each of `publications` (public issues of any statements) by primary key,
    in one query for all their statements' public issues."""
    statement_ids = {p.statement_id for p in publications}
    by_statement: dict[int, list[Publication]] = {}
    for issue in (Publication.objects.public().filter(statement_id__in=statement_ids)
                  .only("pk", "statement_id", "number", "correction_note", "released_at")):
        by_statement.setdefault(issue.statement_id, []).append(issue)
    of_statement: dict[int, dict[int, IssueStatus]] = {}
    for p in publications:
        if p.statement_id not in of_statement:
            of_statement[p.statement_id] = statuses(p.statement, by_statement.get(p.statement_id, []))
    return {p.pk: of_statement[p.statement_id][p.number] for p in publications}


def issue_status(publication: Publication) -> IssueStatus:
    """The status of one public issue."""
    return statuses(publication.statement)[publication.number]




@dataclass
class Issue:
    publication: Publication
    superseded: bool


def issues(statement: Statement, user) -> list[Issue]:
    """The issues `user` may see, newest first: public ones for everyone, all for member staff
    (pending, failed and embargoed ones included)."""
    # Not the frozen signatories (a large JSON document at 1,000 signatories): pages never show them.
    publications = list(statement.publications.select_related("revision").defer("signatories").order_by("-number"))
    if not permissions.can_view_drafting(user, statement):
        publications = [p for p in publications if p.is_public]
    newest_ready = max((p.number for p in publications if p.is_ready), default=0)
    return [Issue(p, superseded=p.is_ready and p.number < newest_ready) for p in publications]


def downloadable(statement: Statement, user, number: int | None) -> Publication | None:
    """The ready issue `number` (the newest if None) that `user` may download, or None."""
    ready = [i.publication for i in issues(statement, user) if i.publication.is_ready]
    if number is None:
        return ready[0] if ready else None
    return next((p for p in ready if p.number == number), None)


def confirmed_subscribers() -> QuerySet:
    """The public's subscriptions to new statements that are confirmed and not ended."""
    return Subscriber.objects.filter(confirmed_at__isnull=False, unsubscribed_at__isnull=True)
