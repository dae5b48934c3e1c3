"""What the coalition says: statements, their revisions and signatures."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coalition import names
from coalition.addresses import canonical_email

from . import text


class Statement(models.Model):
    """An open statement of a coalition. Its words live in `Revision`s; this row holds where the
    statement is in its life (`status`, see `workflow.py`) and which revisions matter."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open for signature")
        CLOSED = "closed", _("Signing closed")
        PUBLISHED = "published", _("Published")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    coalition = models.ForeignKey("coalition.Coalition", on_delete=models.PROTECT, related_name="statements")
    slug = models.SlugField(_("address"), max_length=100, unique=True)
    primary_language = models.CharField(_("language of the original"), max_length=8, choices=settings.LANGUAGES)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True)
    deadline = models.DateTimeField(_("signing deadline"), null=True, blank=True)
    allows_individuals = models.BooleanField(_("individuals may sign"), default=False)
    # The latest revision in the primary language.
    current_revision = models.ForeignKey(
        "Revision", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("current revision"),
    )
    # The text frozen for signature when the statement was opened (re-frozen by a coordinator's edit).
    signed_revision = models.ForeignKey(
        "Revision", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("revision to be signed"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="statements_created",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    opened_at = models.DateTimeField(_("opened for signature"), null=True, blank=True)
    closed_at = models.DateTimeField(_("signing closed"), null=True, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    withdrawal_reason = models.TextField(_("reason for withdrawal"), blank=True)
    # The order coordinators set for signatory organisations: organisation ids, first to last.
    # Organisations not in it follow alphabetically; empty means alphabetical throughout.
    signatory_order = models.JSONField(_("order of signatory organisations"), default=list, blank=True)
    # Where it is published from, per language ({"en": "Kyiv", "uk": "Київ"}); a language not here
    # takes the coalition's place (`place_in`).
    places = models.JSONField(_("place of publication"), default=dict, blank=True,
                              validators=[names.clean_places])

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("statement")
        verbose_name_plural = _("statements")

    def __str__(self) -> str:
        return self.title or self.slug

    def get_absolute_url(self) -> str:
        return reverse("statement_detail", args=[self.slug])

    @property
    def title(self) -> str:
        return self.current_revision.title if self.current_revision_id else ""

    def place_in(self, language: str) -> str:
        """The place of publication in `language`: the statement's own, else the coalition's."""
        return (self.places or {}).get(language) or self.coalition.place_in(language)

    def publication_places(self) -> dict[str, str]:
        """The place in every language, as an issue keeps it."""
        return {language: place for language in names.languages() if (place := self.place_in(language))}

    @property
    def is_public(self) -> bool:
        """Published, or withdrawn after publication (its page stays, marked withdrawn)."""
        return self.status in (self.Status.PUBLISHED, self.Status.WITHDRAWN) and self.published_at is not None


class Revision(models.Model):
    """An immutable snapshot of a statement's text in one language. Editing never changes a
    revision; it adds one. `sha256` is taken over `text.canonical_text()` of title, summary and
    body (NFC, LF line endings, trailing spaces stripped, "title\n\nsummary\n\nbody"): what
    signatures bind to and what the PDF prints. The fields are stored already normalised, so the
    canonical text can be rebuilt from the row exactly."""

    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField(_("number"))
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    title = models.CharField(_("title"), max_length=300)
    summary = models.TextField(_("summary"), blank=True)
    body = models.TextField(_("text (Markdown)"))
    body_html = models.TextField(editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="revisions", verbose_name=_("author")
    )
    note = models.CharField(_("note on this change"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("saved"), default=timezone.now)
    sha256 = models.CharField(_("SHA-256 of the text"), max_length=64, editable=False)
    # The revision the editor started from; an edit whose `based_on` is no longer the latest is a conflict.
    based_on = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("based on")
    )
    # For a translation: the revision of the original (primary language) that it translates.
    translation_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="translations",
        verbose_name=_("translation of"),
    )

    class Meta:
        ordering = ["statement", "number"]
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")
        constraints = [
            models.UniqueConstraint(fields=["statement", "number"], name="one_revision_number_per_statement"),
        ]

    def __str__(self) -> str:
        return f"{self.title} (#{self.number}, {self.language})"

    @property
    def canonical_text(self) -> str:
        return text.canonical_text(self.title, self.summary, self.body)

    @property
    def is_translation(self) -> bool:
        return self.translation_of_id is not None

    def save(self, *args, **kwargs):
        """Revisions are written once: the text is normalised, rendered, sanitised and hashed here,
        and saving an existing revision again is refused."""
        if self.pk is not None or not self._state.adding:
            raise ValidationError(_("A revision never changes once saved; save a new revision instead."))
        self.title = text.normalise_title(self.title)
        self.summary, self.body = text.normalise(self.summary), text.normalise(self.body)
        self.body_html = text.render_markdown(self.body)
        self.sha256 = text.sha256_of(self.title, self.summary, self.body)
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)


class Comment(models.Model):
    """A member's comment on a draft, tied to the revision it was written on. Plain text: shown
    escaped, never as HTML."""

    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="comments")
    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("comment"))
    created_at = models.DateTimeField(_("written"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("comment")
        verbose_name_plural = _("comments")

    def __str__(self) -> str:
        return f"{self.author} on {self.statement}"

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None


class SignatureQuerySet(models.QuerySet):
    def live(self):
        """Not withdrawn: what the one-per-organisation and one-per-person constraints count."""
        return self.filter(withdrawn_at__isnull=True)

    def bulk_create(self, objs, *args, **kwargs):
        """As Django's, with each signature's canonical address filled in (no save() runs)."""
        objs = list(objs)
        for signature in objs:
            signature.fill_email_canonical()
        return super().bulk_create(objs, *args, **kwargs)

    def counted(self):
        """What the public sees: live organisations, and individuals confirmed and not hidden."""
        return self.live().filter(
            models.Q(kind=Signature.Kind.ORGANISATION)
            | models.Q(kind=Signature.Kind.INDIVIDUAL, confirmed_at__isnull=False, hidden_at__isnull=True)
        )


class Signature(models.Model):
    """Who signed which exact text of a statement.

    `revision` is the text signed; `sha256` is copied from it when signing, so the signature states
    on its own which words it binds to. An organisation signs through a user who held `can_sign`
    for it at that moment (`signed_by`). An individual gives a name, an optional affiliation and an
    email address (kept as typed, compared case-insensitively); the signature counts only once the
    emailed link is followed and its button pressed (`confirmed_at`). The link's token is stored
    hashed. Signatures are never deleted: withdrawing sets `withdrawn_at`, and a coordinator hides
    an abusive individual signature with `hidden_at` and a reason."""

    class Kind(models.TextChoices):
        ORGANISATION = "organisation", _("Organisation")
        INDIVIDUAL = "individual", _("Individual")

    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="signatures")
    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="signatures",
                                 verbose_name=_("text signed"))
    sha256 = models.CharField(_("SHA-256 of the text signed"), max_length=64)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    organisation = models.ForeignKey(
        "coalition.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="signatures",
        verbose_name=_("organisation"),
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="signatures",
        verbose_name=_("signed by"),
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    affiliation = models.CharField(_("affiliation"), max_length=200, blank=True)
    email = models.EmailField(_("email address"), blank=True)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")
    token_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    token_expires_at = models.DateTimeField(_("link expires"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    created_at = models.DateTimeField(_("signed"), default=timezone.now)
    # When (and by whom) the signature was last bound to a newer text after a change while open.
    rebound_at = models.DateTimeField(_("new text confirmed"), null=True, blank=True)
    rebound_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    hidden_at = models.DateTimeField(_("hidden"), null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    hidden_reason = models.TextField(_("reason for hiding"), blank=True)
    # Erasure at the person's request, or of a signature never confirmed (`statements.services.privacy`):
    # the address is gone (and, before publication, the name and affiliation); a keyed hash
    # (HMAC-SHA256 with AUDIT_HASH_KEY; a plain SHA-256 on rows erased before it) of the
    # lowercased address stays, the same hash the audit log records.
    email_sha256 = models.CharField(_("SHA-256 of the email address"), max_length=64, blank=True, editable=False)
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True)
    # The address as one person (`coalition.addresses.canonical_email`: `Alice+2@gmail.com` is
    # `alice@gmail.com`), which the one live signature per person is counted on; set when the
    # signature is made, blanked with the address.
    email_canonical = models.CharField(_("canonical email address"), max_length=254, blank=True, editable=False)

    objects = SignatureQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        indexes = [
            # The individuals a statement's page counts and names the newest of, and its list pages
            # (`selectors._confirmed_individuals`): the count from the index alone, the names a slice at a time.
            models.Index(fields=["statement", "revision", "confirmed_at", "id"],
                         condition=models.Q(kind="individual", withdrawn_at__isnull=True, confirmed_at__isnull=False,
                                            hidden_at__isnull=True),
                         name="signature_confirmed_people"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "organisation"],
                condition=models.Q(kind="organisation", withdrawn_at__isnull=True),
                name="one_live_signature_per_organisation",
            ),
            models.UniqueConstraint(
                fields=["statement", "email_canonical"],
                condition=models.Q(kind="individual", withdrawn_at__isnull=True, erased_at__isnull=True),
                name="one_live_signature_per_person",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="organisation", organisation__isnull=False, signed_by__isnull=False)
                    | (models.Q(kind="individual", organisation__isnull=True)
                       & ((~models.Q(name="") & ~models.Q(email="")) | models.Q(erased_at__isnull=False)))
                ),
                name="signature_is_organisation_or_individual",
            ),
        ]

    def __str__(self) -> str:
        who = self.organisation if self.kind == self.Kind.ORGANISATION else self.name
        return f"{who} on {self.statement_id}"

    @property
    def is_live(self) -> bool:
        return self.withdrawn_at is None

    @property
    def short_hash(self) -> str:
        return self.sha256[:12]

    def _published(self) -> bool:
        return self.pk is not None and Publication.objects.filter(statement_id=self.statement_id).exists()

    def _is_erasure(self, fields) -> bool:
        """Erasing the address is the one change a published signature allows: the address was
        never part of the publication."""
        return bool(fields) and set(fields) <= ERASURE_FIELDS and self.email == "" and self.erased_at is not None

    def save(self, *args, **kwargs):
        """A signature of a statement with a publication is frozen except for the erasure of its
        address (in PostgreSQL a trigger also refuses raw SQL); a new signature, or a change before
        publishing, is saved as usual."""
        if not self._state.adding and not self._is_erasure(kwargs.get("update_fields")) and self._published():
            raise ValidationError(_("The signatures of a published statement never change."))
        self.fill_email_canonical()
        if kwargs.get("update_fields") is not None and "email" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "email_canonical"}
        super().save(*args, **kwargs)

    def fill_email_canonical(self) -> None:
        """Set `email_canonical` from the address (for a new signature, or one whose address is
        erased); call it before an insert that bypasses save()."""
        if not self.email:
            self.email_canonical = ""
        elif self._state.adding or not self.email_canonical:
            self.email_canonical = canonical_email(self.email)

    def delete(self, *args, **kwargs):
        if self._published():
            raise ValidationError(_("The signatures of a published statement never change."))
        return super().delete(*args, **kwargs)


# The fields erasing an individual's address changes on a published statement's signature.
ERASURE_FIELDS = {"email", "email_canonical", "email_sha256", "erased_at", "token_hash", "token_expires_at"}


class Decline(models.Model):
    """An organisation's answer that it will not sign, with an optional reason only coordinators
    read; it lets the roster tell "declined" from "no answer yet". Taking it back (or signing)
    sets `retracted_at`; rows are never deleted."""

    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="declines")
    organisation = models.ForeignKey("coalition.Organisation", on_delete=models.PROTECT, related_name="+")
    declined_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason (seen only by coordinators)"), blank=True)
    created_at = models.DateTimeField(_("declined"), default=timezone.now)
    retracted_at = models.DateTimeField(_("taken back"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("decline")
        verbose_name_plural = _("declines")
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "organisation"], condition=models.Q(retracted_at__isnull=True),
                name="one_live_decline_per_organisation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} declined {self.statement_id}"


class Reminder(models.Model):
    """An organisation was reminded to answer a statement: automatically before the deadline, or
    by a coordinator from the roster (`by`). Written in the transaction that queues the reminder's
    emails, and only when at least one was queued; whether an organisation may be reminded again
    is read from these rows."""

    class Kind(models.TextChoices):
        AUTOMATIC = "automatic"
        COORDINATOR = "coordinator"

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="reminders")
    organisation = models.ForeignKey("coalition.Organisation", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                           related_name="+")
    queued_at = models.DateTimeField(default=timezone.now)  # its emails were queued (the outbox sends them)

    class Meta:
        ordering = ["queued_at", "id"]
        indexes = [models.Index(fields=["statement", "organisation"], name="reminder_statement_org")]

    def __str__(self) -> str:
        return f"{self.organisation} reminded of {self.statement_id} ({self.kind})"


class InvitedPartner(models.Model):
    """An organisation from outside the coalition that coordinators invited to sign one statement
    (a joint issuer); its staff with `can_sign` may then sign it like a member's."""

    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="invited_partners")
    organisation = models.ForeignKey("coalition.Organisation", on_delete=models.PROTECT, related_name="+")
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("invited"), default=timezone.now)

    class Meta:
        ordering = ["organisation__name"]
        verbose_name = _("invited partner")
        verbose_name_plural = _("invited partners")
        constraints = [
            models.UniqueConstraint(fields=["statement", "organisation"], name="one_invitation_per_partner"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} invited to {self.statement_id}"


class FanOut(models.Model):
    """A message to many recipients, asked for in the transaction of the event behind it and
    written to the outbox by a task after commit (`statements.fanouts`): the request writes this
    one row, the task the outbox rows, in bulk. `done_at` is set in the task's transaction, so an
    unfinished fan-out (its task lost, the broker down) is found and run again by the sweep; the
    outbox rows' dedupe keys make a second run write nothing twice."""

    class Event(models.TextChoices):
        STATEMENT_OPENED = "statement_opened", _("A statement was opened for signature")
        PUBLICATION_RELEASED = "publication_released", _("An issue was published")
        DEADLINE_PASSED = "deadline_passed", _("Signing closed at the deadline")
        TEXT_CHANGED = "text_changed", _("The text to be signed was changed while open")

    key = models.CharField(max_length=255, unique=True)
    event = models.CharField(_("event"), max_length=40, choices=Event.choices)
    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="+")
    publication = models.ForeignKey("Publication", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    messages = models.PositiveIntegerField(_("messages written"), default=0)

    class Meta:
        ordering = ["id"]
        verbose_name = _("fan-out")
        verbose_name_plural = _("fan-outs")
        indexes = [models.Index(fields=["created_at"], condition=models.Q(done_at__isnull=True), name="fanout_pending")]

    def __str__(self) -> str:
        return f"{self.event} of statement {self.statement_id}"


def publication_path(publication, filename: str) -> str:
    return f"publications/{publication.statement.slug}/issue-{publication.number}.pdf"


class PublicationQuerySet(models.QuerySet):
    def ready(self):
        return self.filter(state=Publication.State.READY)

    def public(self):
        """Ready and released (an embargoed issue is released by `release_due_publications`)."""
        return self.ready().filter(released_at__isnull=False)


class Publication(models.Model):
    """A numbered issue of a published statement: the revision, the signatories as they stood, and
    the signed PDF, stored byte for byte as signing returned it. A correction is issue n+1, never an
    overwrite; an issue is superseded by any newer ready one.

    Once ready, an issue never changes except for `released_at` (set once, when it goes public);
    `save()` refuses the rest, and in PostgreSQL a trigger refuses it for raw SQL too."""

    class State(models.TextChoices):
        PENDING = "pending", _("Being prepared")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="publications")
    number = models.PositiveIntegerField(_("issue"))
    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="publications",
                                 verbose_name=_("text published"))
    # {"organisations": [name, ...], "individuals": [{"name": ..., "affiliation": ...}, ...]}
    signatories = models.JSONField(_("signatories"), default=dict)
    # The place printed before the date, per language ({"en": "Kyiv", "uk": "Київ"}), as it stood
    # when the issue was made. Issues made before then have only `place`, in every language.
    places = models.JSONField(_("place of publication"), default=dict, blank=True)
    place = models.CharField(_("place"), max_length=100, blank=True, default="")
    pdf = models.FileField(_("PDF"), upload_to=publication_path, blank=True, max_length=255)
    sha256 = models.CharField(_("SHA-256 of the PDF"), max_length=64, blank=True, db_index=True)
    certificate_sha256 = models.CharField(_("fingerprint of the signing certificate"), max_length=64, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    failure = models.TextField(_("why it failed"), blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    correction_note = models.TextField(_("what this correction changes"), blank=True)
    public_from = models.DateTimeField(_("embargoed until"), null=True, blank=True)
    released_at = models.DateTimeField(_("made public"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("published by"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    ready_at = models.DateTimeField(_("ready"), null=True, blank=True)
    # The audit log's head when the PDF was made (printed in it, listed on /transparency/): the
    # event's number, not a foreign key, since what it guards against is that event going missing.
    audit_event_id = models.PositiveBigIntegerField(_("audit event anchored"), null=True, blank=True)
    audit_hash = models.CharField(_("hash of the audit event anchored"), max_length=64, blank=True)

    objects = PublicationQuerySet.as_manager()

    class Meta:
        ordering = ["statement", "number"]
        verbose_name = _("publication")
        verbose_name_plural = _("publications")
        constraints = [
            models.UniqueConstraint(fields=["statement", "number"], name="one_publication_number_per_statement"),
        ]

    def __str__(self) -> str:
        return f"{self.statement_id} issue {self.number}"

    @property
    def is_ready(self) -> bool:
        return self.state == self.State.READY

    def place_in(self, language: str) -> str:
        return (self.places or {}).get(language) or self.place

    @property
    def is_public(self) -> bool:
        return self.is_ready and self.released_at is not None

    @property
    def file_name(self) -> str:
        return f"{self.statement.slug}-issue-{self.number}.pdf"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            stored = type(self).objects.filter(pk=self.pk).values("state", "released_at").first()
            if stored and stored["state"] == self.State.READY:
                fields = kwargs.get("update_fields")
                if not (fields and set(fields) == {"released_at"} and stored["released_at"] is None):
                    raise ValidationError(_("A ready publication never changes; publish a correction instead."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("A publication is never deleted."))


class Subscriber(models.Model):
    """A member of the public who asked to get new publications by email (no account). The row
    counts once the emailed link's button is pressed (`confirmed_at`, double opt-in); one-click
    unsubscribe (an `EmailOptOut` of kind `statement_published`) ends it (`unsubscribed_at`), and
    subscribing again starts a new row. One live row per address, case-insensitively."""

    email = models.EmailField(_("email address"))
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")
    created_at = models.DateTimeField(_("subscribed"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("subscriber")
        verbose_name_plural = _("subscribers")
        constraints = [
            models.UniqueConstraint(Lower("email"), condition=models.Q(unsubscribed_at__isnull=True),
                                    name="one_live_subscriber_per_email"),
        ]

    def __str__(self) -> str:
        return self.email


class TsVectorField(models.TextField):
    """A PostgreSQL tsvector (text on other databases), given and stored as its text form: the
    value is cast on the way in, so PostgreSQL parses it once, not at every search."""

    def db_type(self, connection):
        return "tsvector" if connection.vendor == "postgresql" else super().db_type(connection)

    def get_placeholder(self, value, compiler, connection):
        return "%s::tsvector" if connection.vendor == "postgresql" else "%s"


class SearchText(models.Model):
    """What the archive's search reads of one revision: its words reduced to their search terms
    (`statements.search`), stored when the revision is saved (revisions never change) and rebuilt
    by `manage.py rebuild_search_index`. Which revisions the public may find is decided when
    searching, as ever (`selectors.search_archive`)."""

    revision = models.OneToOneField(Revision, on_delete=models.CASCADE, primary_key=True, related_name="search_text")
    # Every term at its word's position, title A, summary B, body C (a tsvector on PostgreSQL).
    vector = TsVectorField()
    # The same terms for SQLite, each between spaces; `terms` holds title, summary and body.
    title_terms = models.TextField()
    summary_terms = models.TextField()
    terms = models.TextField()
    version = models.PositiveSmallIntegerField()  # statements.search.VERSION when made

    class Meta:
        verbose_name = _("search text")
        verbose_name_plural = _("search texts")

    def __str__(self) -> str:
        return str(self.revision_id)
