"""The coalition's membership: people, organisations, who belongs to which coalition, who may sign."""

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import look, names, origins
from .time_zones import validate_time_zone
from .validators import validate_description, validate_name

# Only `manage.py seed_demo` sets `demo`, on what it created itself; it grants roles on nothing else.
NAMES_HELP = _('The name and description in each of the site’s other languages, e.g. '
                '{"uk": {"name": "Центр громадянських свобод", "description": "…"}}. A language without a '
                'name here shows the name above.')
PLACES_HELP = _('Where statements are published from, per language, e.g. {"en": "Kyiv", "uk": "Київ"}; '
                'printed before the date in the PDF. A statement may name another place.')
EMBED_HELP = _("Origins such as https://example.org whose pages may show this coalition's statements in a frame "
               "(the embed page); https only, except localhost.")
ACCENT_HELP = _("A hex colour such as #0b4f8a for buttons, links and rules on the coalition's pages, emails and "
                "PDFs; white text on it must reach a contrast of 4.5:1. Blank: the site's blue.")
DEMO_HELP = _("Made by manage.py seed_demo, which gives roles only on what it made itself.")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person who signs in. The email address is the login."""

    username = None
    first_name = None
    last_name = None
    email = models.EmailField(_("email address"), unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True, validators=[validate_name])
    language = models.CharField(
        _("language for emails"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    # Blank: the site's zone (settings.TIME_ZONE). Times are always stated in the site's zone and,
    # when this is another, in this one too.
    time_zone = models.CharField(
        _("time zone"), max_length=64, blank=True, validators=[validate_time_zone],
        help_text=_("Times are always shown in the site’s zone (Kyiv); with a zone chosen here they "
                    "are also shown in it. Blank: the site’s zone only."),
    )

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.name or self.email

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name or self.email


class Coalition(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    description = models.TextField(_("description"), blank=True)
    # The name and description in the site's other languages (coalition/names.py): `name` and
    # `description` are those in the original language.
    translations = models.JSONField(_("names in other languages"), default=dict, blank=True,
                                    validators=[names.clean_translations], help_text=NAMES_HELP)
    places = models.JSONField(_("place of publication"), default=dict, blank=True,
                              validators=[names.clean_places], help_text=PLACES_HELP)
    website = models.URLField(_("website"), blank=True)
    # Pages that may frame the coalition's statements' embed pages (coalition/origins.py).
    embed_origins = models.JSONField(_("sites that may embed statements"), default=list, blank=True,
                                     validators=[origins.validate_origins], help_text=EMBED_HELP)
    # The look (coalition/look.py): the logo's name in the default storage (an SVG already
    # sanitised, or a PNG written again), and the accent colour.
    logo = models.CharField(_("logo"), max_length=200, blank=True, editable=False)
    accent = models.CharField(_("accent colour"), max_length=7, blank=True, validators=[look.validate_accent],
                              help_text=ACCENT_HELP)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    demo = models.BooleanField(_("demo data"), default=False, editable=False, help_text=DEMO_HELP)

    class Meta:
        ordering = ["name"]
        verbose_name = _("coalition")
        verbose_name_plural = _("coalitions")

    def __str__(self) -> str:
        return self.name

    def clean(self):
        self.translations = names.clean_translations(self.translations)
        self.places = names.clean_places(self.places)
        self.accent = look.clean_accent(self.accent)

    @property
    def look_version(self) -> str:
        """Changes whenever the logo or accent does: part of their URLs, so each can be kept for good."""
        return hashlib.sha256(f"{self.accent}|{self.logo}".encode()).hexdigest()[:12]

    @property
    def has_look(self) -> bool:
        return bool(self.accent or self.logo)

    def logo_url(self) -> str:
        if not self.logo:
            return ""
        stem, kind = self.logo.rsplit("/", 1)[-1].rsplit(".", 1)
        return reverse("coalition_logo", args=[self.slug, stem, kind])

    def look_css_url(self) -> str:
        return reverse("coalition_look_css", args=[self.slug, self.look_version]) if self.has_look else ""

    def name_in(self, language: str | None) -> str:
        return names.name_in(self.name, self.translations, language)

    def description_in(self, language: str | None) -> str:
        return names.name_in(self.description, self.translations, language, "description")

    def place_in(self, language: str | None) -> str:
        """Where its statements are published from, in `language` (empty if it never said)."""
        return (self.places or {}).get((language or names.active_language()).split("-")[0], "")

    @property
    def display_name(self) -> str:
        """The name in the active language: what pages and emails show."""
        return self.name_in(None)

    @property
    def display_description(self) -> str:
        return self.description_in(None)

    def get_absolute_url(self) -> str:
        return reverse("coalition_detail", args=[self.slug])


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True, validators=[validate_name])
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    description = models.TextField(_("description"), blank=True, validators=[validate_description])
    translations = models.JSONField(_("names in other languages"), default=dict, blank=True,
                                    validators=[names.clean_translations], help_text=NAMES_HELP)
    website = models.URLField(_("website"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    demo = models.BooleanField(_("demo data"), default=False, editable=False, help_text=DEMO_HELP)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name

    def clean(self):
        self.translations = names.clean_translations(self.translations)
        self.check_names_unique()

    def check_names_unique(self) -> None:
        """A name in any language is no other organisation's name in any language (case-blind):
        two organisations never read alike in a list of signatories."""
        mine = {value.casefold(): value for value in self.all_names()}
        for other in Organisation.objects.exclude(pk=self.pk).only("name", "translations"):
            taken = [mine[value.casefold()] for value in other.all_names() if value.casefold() in mine]
            if taken:
                message = _("“%(name)s” is already the name of another organisation (%(other)s).")
                raise ValidationError(message % {"name": taken[0], "other": other.name}, code="unique_name")

    def all_names(self) -> list[str]:
        return [self.name, *(entry["name"] for entry in (self.translations or {}).values()
                             if isinstance(entry, dict) and entry.get("name"))]

    def name_in(self, language: str | None) -> str:
        return names.name_in(self.name, self.translations, language)

    def description_in(self, language: str | None) -> str:
        return names.name_in(self.description, self.translations, language, "description")

    @property
    def display_name(self) -> str:
        """The name in the active language: what pages, emails and lists show."""
        return self.name_in(None)

    @property
    def display_description(self) -> str:
        return self.description_in(None)

    def get_absolute_url(self) -> str:
        return reverse("organisation_detail", args=[self.slug])


class MembershipQuerySet(models.QuerySet):
    def current(self):
        return self.filter(left__isnull=True)


class Membership(models.Model):
    """An organisation's membership of a coalition, from the day it joined until the day it left."""

    coalition = models.ForeignKey(Coalition, on_delete=models.PROTECT, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="memberships")
    joined = models.DateField(_("joined"), default=timezone.localdate)
    left = models.DateField(_("left"), null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["organisation__name"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["coalition", "organisation"],
                condition=models.Q(left__isnull=True),
                name="one_current_membership",
            ),
            models.CheckConstraint(
                condition=models.Q(left__isnull=True) | models.Q(left__gte=models.F("joined")),
                name="membership_left_after_joined",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} in {self.coalition}"


class OrganisationRole(models.Model):
    """A person on an organisation's staff, for one coalition; `can_sign` is the authority to sign
    on the organisation's behalf.

    The role belongs to the coalition whose coordinator made it (through an invitation, or on the
    people page): it counts only for that coalition's statements (including those it invited the
    organisation to sign as a partner), and only that coalition's coordinators change it. Someone
    on an organisation's staff in two coalitions has two roles."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="organisation_roles")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="roles")
    coalition = models.ForeignKey(
        Coalition, on_delete=models.CASCADE, related_name="organisation_roles", verbose_name=_("coalition"),
        help_text=_("The coalition whose statements this role counts for."),
    )
    can_sign = models.BooleanField(_("may sign on its behalf"), default=False)
    signing_since = models.DateTimeField(_("may sign since"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["organisation__name"]
        verbose_name = _("organisation role")
        verbose_name_plural = _("organisation roles")
        constraints = [models.UniqueConstraint(fields=["user", "organisation", "coalition"],
                                               name="one_role_per_organisation_and_coalition")]

    def __str__(self) -> str:
        return f"{self.user} at {self.organisation} ({self.coalition})"

    def save(self, *args, **kwargs):
        # `signing_since` follows `can_sign` however the row is saved (services, admin, demo).
        if not self.can_sign:
            self.signing_since = None
        elif self.signing_since is None:
            self.signing_since = timezone.now()
        if kwargs.get("update_fields") is not None and "can_sign" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "signing_since"}
        super().save(*args, **kwargs)


class CoalitionRole(models.Model):
    """A role a person holds on a coalition as a whole (today: coordinator)."""

    class Role(models.TextChoices):
        COORDINATOR = "coordinator", _("Coordinator")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coalition_roles")
    coalition = models.ForeignKey(Coalition, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.COORDINATOR)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("coalition role")
        verbose_name_plural = _("coalition roles")
        constraints = [models.UniqueConstraint(fields=["user", "coalition", "role"], name="one_coalition_role")]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_role_display()} of {self.coalition}"


def new_invitation_token() -> str:
    return secrets.token_urlsafe(32)


def invitation_token_digest(token: str) -> str:
    """What is stored of an invitation's token: its SHA-256, as a signature's link token is."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


class Invitation(models.Model):
    """An emailed invitation to join a coalition's work, with the role that accepting it grants."""

    class Role(models.TextChoices):
        STAFF = "staff", _("Staff member (may draft, may not sign)")
        SIGNER = "signer", _("Staff member who may sign for the organisation")
        COORDINATOR = "coordinator", _("Coordinator of the coalition")

    coalition = models.ForeignKey(Coalition, on_delete=models.CASCADE, related_name="invitations")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, null=True, blank=True, related_name="invitations"
    )
    email = models.EmailField(_("email address"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.STAFF)
    language = models.CharField(
        _("language of the invitation"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    # Only the token's hash is stored, so a copy of the database opens no invitation; the token
    # itself is on the instance that made it (whose link is emailed) and on one found by it.
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token: str | None = None
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role="coordinator") | models.Q(organisation__isnull=False),
                name="staff_invitation_names_organisation",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.coalition}"

    def save(self, *args, **kwargs):
        if not self.token_hash:
            self.token = new_invitation_token()
            self.token_hash = invitation_token_digest(self.token)
        super().save(*args, **kwargs)

    def accept_path(self) -> str:
        """The link's path: known only where the token is (not the object's page, which is why
        this is not `get_absolute_url`)."""
        if not self.token:
            raise ValueError("Only the token's hash is stored: the link is known where the invitation was made.")
        return reverse("invitation_accept", args=[self.token])

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.is_expired:
            return "expired"
        return "pending"


class AuditEvent(models.Model):
    """One entry of the append-only audit log; each holds the hash of the one before it."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"


class EmailOptOut(models.Model):
    """An email address that asked not to get one kind of bulk message any more.

    Kept by address, not by account, so that one-click unsubscribe works the same for staff with
    accounts and for public subscribers without one (the unsubscribe token names an address and a
    kind). Transactional messages (invitations, confirmations, account email) have no kind here
    and are always sent."""

    class Kind(models.TextChoices):
        STATEMENT_OPENED = "statement_opened", _("A statement is opened for signature")
        SIGNATURE_REMINDER = "signature_reminder", _("Reminders before a signing deadline")
        TEXT_CHANGED = "text_changed", _("The text my organisation signed was changed")
        DEADLINE_PASSED = "deadline_passed", _("A signing deadline has passed (for coordinators)")
        STATEMENT_PUBLISHED = "statement_published", _("A statement is published")

    email = models.EmailField(_("email address"))  # stored lower-case
    kind = models.CharField(_("kind of message"), max_length=40, choices=Kind.choices)
    created_at = models.DateTimeField(_("unsubscribed"), default=timezone.now)

    class Meta:
        ordering = ["email", "kind"]
        verbose_name = _("email opt-out")
        verbose_name_plural = _("email opt-outs")
        constraints = [models.UniqueConstraint(fields=["email", "kind"], name="one_opt_out_per_kind")]

    def __str__(self) -> str:
        return f"{self.email}: no {self.kind}"


class OutboundEmailQuerySet(models.QuerySet):
    def unsent(self):
        return self.filter(sent_at__isnull=True, failed_at__isnull=True)

    def due(self, now=None):
        return self.unsent().filter(due_at__lte=now or timezone.now())


class OutboundEmail(models.Model):
    """The outbox: one row per message to send, written in the transaction of the event behind it.

    Celery delivers rows; `dedupe_key` makes writing the same message twice impossible and
    `sent_at` makes sending it twice a no-op. `message_id` is stable, so a resend after a crash
    can be recognised by the receiving side.
    """

    kind = models.CharField(_("kind"), max_length=40, db_index=True)
    # The coalition the message is about, so its coordinators see failed deliveries; empty for
    # account messages (password reset, email confirmation).
    coalition = models.ForeignKey(
        "coalition.Coalition", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    dedupe_key = models.CharField(max_length=255, unique=True)
    recipient = models.EmailField(_("recipient"))
    language = models.CharField(_("language"), max_length=8, default="en")
    subject = models.CharField(_("subject"), max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    message_id = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    due_at = models.DateTimeField(_("due"), default=timezone.now, db_index=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    failed_at = models.DateTimeField(_("given up"), null=True, blank=True)

    objects = OutboundEmailQuerySet.as_manager()

    class Meta:
        db_table = "statements_outboundemail"  # made by the statements app, which held it first
        ordering = ["id"]
        verbose_name = _("outbound email")
        verbose_name_plural = _("outbound emails")
        indexes = [
            models.Index(fields=["due_at"], condition=models.Q(sent_at__isnull=True, failed_at__isnull=True), name="outbox_unsent_due"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient}"
