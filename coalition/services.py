"""The membership's domain operations: one function per thing a person does.

Each runs in one transaction, checks permission through `permissions`, writes one audit event and
leaves email to the outbox (delivered after commit).
"""

from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit, look, notifications, permissions, time_zones, validators
from .models import (
    Coalition, CoalitionRole, EmailOptOut, Invitation, Organisation, OrganisationRole, User, invitation_token_digest,
)
from .unsubscribe import BULK_KINDS, normalise as normalise_email


@transaction.atomic
def invite(
    coalition: Coalition,
    *,
    by: User | None,
    email: str,
    role: str,
    organisation: Organisation | None = None,
    language: str = "en",
    check_permission: bool = True,
) -> Invitation:
    """A coordinator (or, with `check_permission=False`, a site operator in the admin) invites
    someone by email; the invitation is emailed through the outbox."""
    if check_permission:
        permissions.require(permissions.can_invite(by, coalition))
    email = email.strip().lower()
    if role != Invitation.Role.COORDINATOR and organisation is None:
        raise ValidationError({"organisation": _("Choose the organisation the person will work for.")})
    if organisation is not None and role != Invitation.Role.COORDINATOR:
        if not permissions.staffed_organisations(coalition).filter(pk=organisation.pk).exists():
            raise ValidationError({"organisation": _(
                "That organisation is neither a member of this coalition nor a partner invited to sign one of "
                "its statements.")})
    invitation = Invitation.objects.create(
        coalition=coalition,
        organisation=organisation,
        email=email,
        role=role,
        language=language,
        invited_by=by,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS),
    )
    audit.record(by, "invitation.sent", invitation, email=email, role=role,
                 organisation=organisation.name if organisation else None)
    notifications.invitation_sent(invitation)
    return invitation


class InvitationUnusable(Exception):
    """The invitation is unknown, expired, revoked or already accepted."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def usable_invitation(token: str, *, lock: bool = False) -> Invitation:
    """The pending invitation whose link carries `token` (found by the token's hash, the only
    thing stored of it)."""
    queryset = Invitation.objects.select_related("coalition", "organisation")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    invitation = queryset.filter(token_hash=invitation_token_digest(token)).first()
    if invitation is None:
        raise InvitationUnusable("unknown")
    invitation.token = token
    if invitation.status != "pending":
        raise InvitationUnusable(invitation.status)
    return invitation


def _grant(invitation: Invitation, user: User) -> None:
    """What accepting gives: a role on the organisation's staff for the inviting coalition only
    (a role the person holds for another coalition is not touched), or the coordinator's role."""
    if invitation.role == Invitation.Role.COORDINATOR:
        CoalitionRole.objects.get_or_create(
            user=user, coalition=invitation.coalition, role=CoalitionRole.Role.COORDINATOR
        )
    if invitation.organisation is not None:
        role, created = OrganisationRole.objects.get_or_create(
            user=user, organisation=invitation.organisation, coalition=invitation.coalition,
            defaults={"can_sign": invitation.role == Invitation.Role.SIGNER},
        )
        if not created and invitation.role == Invitation.Role.SIGNER and not role.can_sign:
            role.can_sign = True
            role.save(update_fields=["can_sign"])


@transaction.atomic
def accept_invitation_as_new_user(token: str, *, name: str, password: str) -> User:
    """The invited person sets a name and password. The link reached them at the invited
    address, so that address is recorded as verified."""
    invitation = usable_invitation(token, lock=True)
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise InvitationUnusable("account_exists")
    user = User(email=invitation.email, name=" ".join(name.split()), language=invitation.language)
    validators.validate_name(user.name)
    validate_password(password, user)
    user.set_password(password)
    user.save()
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    _grant(invitation, user)
    invitation.accepted_at, invitation.accepted_by = timezone.now(), user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit.record(user, "invitation.accepted", invitation, role=invitation.role, new_account=True)
    return user


@transaction.atomic
def accept_invitation_as_existing_user(token: str, *, user: User) -> Invitation:
    """Someone who already has an account, signed in with the invited address, accepts."""
    invitation = usable_invitation(token, lock=True)
    if user.email.lower() != invitation.email.lower():
        raise InvitationUnusable("wrong_account")
    _grant(invitation, user)
    invitation.accepted_at, invitation.accepted_by = timezone.now(), user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit.record(user, "invitation.accepted", invitation, role=invitation.role, new_account=False)
    return invitation


@transaction.atomic
def revoke_invitation(invitation: Invitation, *, by: User) -> Invitation:
    permissions.require(permissions.can_invite(by, invitation.coalition))
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != "pending":
        raise ValidationError(_("Only a pending invitation can be revoked."))
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit.record(by, "invitation.revoked", invitation)
    return invitation


@transaction.atomic
def set_language(user: User, *, language: str) -> None:
    """Remember a signed-in person's language, for the site and their emails."""
    if language in dict(settings.LANGUAGES) and user.language != language:
        user.language = language
        user.save(update_fields=["language"])


def set_time_zone(user: User, *, time_zone: str) -> None:
    """Remember the time zone a person chose for themselves ("" or the site's own: the site's
    only). Pages and emails then show times in the site's zone and in theirs."""
    time_zones.validate_time_zone(time_zone)
    time_zone = "" if time_zone == settings.TIME_ZONE else time_zone
    if user.time_zone != time_zone:
        user.time_zone = time_zone
        user.save(update_fields=["time_zone"])


@transaction.atomic
def unsubscribe(email: str, *, kind: str) -> None:
    """Someone followed (or their mail program one-click posted) an unsubscribe link: `email`
    gets no more bulk messages of `kind`. Doing it twice is harmless."""
    if kind not in BULK_KINDS:
        raise ValidationError(_("There is no such kind of message."))
    EmailOptOut.objects.get_or_create(email=normalise_email(email), kind=kind)


@transaction.atomic
def carry_opt_outs(old_email: str, new_email: str) -> None:
    """Someone made another of their addresses the primary one: what they turned off for the old
    address stays off at the new one (opt-outs are kept by address, so mail never asks whose)."""
    kinds = EmailOptOut.objects.filter(email=normalise_email(old_email)).values_list("kind", flat=True)
    for kind in kinds:
        EmailOptOut.objects.get_or_create(email=normalise_email(new_email), kind=kind)


def primary_email_changed(sender, *, from_email_address, to_email_address, **kwargs) -> None:
    """allauth's email_changed signal receiver."""
    if from_email_address is not None:
        carry_opt_outs(from_email_address.email, to_email_address.email)


@transaction.atomic
def set_notification_preferences(user: User, *, receive: set[str]) -> None:
    """A signed-in person chooses which kinds of bulk message they get at their address; every
    kind not in `receive` is opted out of."""
    email = normalise_email(user.email)
    EmailOptOut.objects.filter(email=email, kind__in=receive).delete()
    for kind in BULK_KINDS - set(receive):
        EmailOptOut.objects.get_or_create(email=email, kind=kind)


# Who may sign for each member organisation -------------------------------------------------------


def _member_role(coalition: Coalition, role: OrganisationRole, by: User) -> OrganisationRole:
    """The staff role, locked, after checking that `by` manages the coalition's members, that the
    role was made for this coalition (another coalition's roles are its coordinators' business),
    and that its organisation is a current member or an invited partner of it."""
    permissions.require(permissions.can_manage_members(by, coalition))
    role = OrganisationRole.objects.select_for_update().select_related("user", "organisation").get(pk=role.pk)
    permissions.require(role.coalition_id == coalition.pk)
    if not permissions.staffed_organisations(coalition).filter(pk=role.organisation_id).exists():
        raise ValidationError(_("That organisation is not a member of this coalition."))
    return role


def grant_signing_authority(coalition: Coalition, role: OrganisationRole, *, by: User) -> OrganisationRole:
    """A coordinator lets a staff member sign statements on their organisation's behalf; the
    person is told by email."""
    return _set_signing_authority(coalition, role, by=by, can_sign=True)


def withdraw_signing_authority(coalition: Coalition, role: OrganisationRole, *, by: User) -> OrganisationRole:
    """A coordinator takes back a staff member's authority to sign for their organisation.
    Signatures they made while they held it stand: they were made with authority at that moment."""
    return _set_signing_authority(coalition, role, by=by, can_sign=False)


@transaction.atomic
def _set_signing_authority(coalition: Coalition, role: OrganisationRole, *, by: User, can_sign: bool) -> OrganisationRole:
    role = _member_role(coalition, role, by)
    names = {"name": role.user.get_full_name(), "organisation": role.organisation.name}
    if role.can_sign == can_sign:
        raise ValidationError((_("%(name)s already holds signing authority for %(organisation)s.") if can_sign
                               else _("%(name)s does not hold signing authority for %(organisation)s.")) % names)
    role.can_sign = can_sign
    role.save(update_fields=["can_sign"])
    change = "granted" if can_sign else "withdrawn"
    event = audit.record(by, f"member.signing_{change}", role.organisation, coalition=coalition.slug,
                         email=role.user.email)
    notifications.signing_authority_changed(role.user, role.organisation, coalition, change=change, event=event)
    return role


@transaction.atomic
def remove_from_staff(coalition: Coalition, role: OrganisationRole, *, by: User) -> OrganisationRole:
    """A coordinator takes a person off an organisation's staff (and so off its signing
    authority). Their account stays, as do the signatures they made; a coordinator's own role on
    the coalition is a separate thing and is not touched."""
    role = _member_role(coalition, role, by)
    user, organisation, could_sign = role.user, role.organisation, role.can_sign
    role.delete()
    event = audit.record(by, "member.removed", organisation, coalition=coalition.slug, email=user.email,
                         could_sign=could_sign)
    notifications.signing_authority_changed(user, organisation, coalition, change="removed", event=event)
    return role


# The coalition's look and the sites that may embed its statements ------------------------------

def set_look(coalition, *, by, accent: str, logo: tuple[bytes, str] | None = None, remove_logo: bool = False):
    """A coordinator sets the coalition's accent colour and, if given, its logo (already cleaned
    by `look.clean_logo`), or removes the logo; audited with what changed. The stored file is named
    by its hash, so a page or email that shows the old one keeps working."""
    permissions.require(permissions.is_coordinator(by, coalition))
    with transaction.atomic():
        return apply_look(coalition, by=by, accent=accent, logo=logo, remove_logo=remove_logo)


def apply_look(coalition, *, by, accent: str, logo: tuple[bytes, str] | None = None, remove_logo: bool = False,
               update_fields=("accent", "logo")):
    """Sets and audits the look, in the caller's transaction: `set_look`'s work, and the admin's
    (whose staff need not coordinate the coalition)."""
    before = {"accent": coalition.accent, "logo": coalition.logo}
    if logo is not None:
        coalition.logo = look.store_logo(coalition, *logo)
    elif remove_logo:
        coalition.logo = ""
    coalition.accent = look.clean_accent(accent)
    if update_fields:
        coalition.save(update_fields=list(update_fields))
    after = {"accent": coalition.accent, "logo": coalition.logo}
    if after != before:
        audit.record(by, "coalition.look_changed", coalition, before=before, after=after)
    return coalition


def set_embed_origins(coalition, origins: list[str], *, by):
    """A coordinator sets the origins that may frame `coalition`'s embed pages (already cleaned
    by `origins.clean_origins`); audited with the list before and after."""
    permissions.require(permissions.is_coordinator(by, coalition))
    with transaction.atomic():
        before = list(coalition.embed_origins)
        coalition.embed_origins = list(origins)
        coalition.save(update_fields=["embed_origins"])
        audit.record(by, "coalition.embed_origins_changed", coalition, before=before, after=coalition.embed_origins)
    return coalition
