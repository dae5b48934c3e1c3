import time
from datetime import timedelta

import factory
from allauth.account.models import EmailAddress
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from allauth.mfa.utils import decrypt
from django.utils import timezone

from coalition.models import Coalition, CoalitionRole, Invitation, Membership, Organisation, OrganisationRole, User

PASSWORD = "a-long-test-password"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        if create:
            self.save()
            EmailAddress.objects.get_or_create(user=self, email=self.email, defaults={"verified": True, "primary": True})


class CoalitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coalition
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Coalition {n}")
    slug = factory.Sequence(lambda n: f"coalition-{n}")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.Sequence(lambda n: f"organisation-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    coalition = factory.SubFactory(CoalitionFactory)
    organisation = factory.SubFactory(OrganisationFactory)


def role_coalition(organisation: Organisation) -> Coalition:
    """The coalition a staff role is made for when a test does not say: the organisation's oldest
    current membership, else the coalition that invited it to sign a statement as a partner, else
    a new coalition (the role then counts nowhere the test looks)."""
    from statements.models import InvitedPartner  # statements sits above coalition

    membership = Membership.objects.current().filter(organisation=organisation).order_by("joined", "pk").first()
    if membership is not None:
        return membership.coalition
    partner = InvitedPartner.objects.filter(organisation=organisation).select_related("statement__coalition").first()
    return partner.statement.coalition if partner else CoalitionFactory()


class OrganisationRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrganisationRole

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    coalition = factory.LazyAttribute(lambda role: role_coalition(role.organisation))
    can_sign = False


def enrol_totp(user, secret: str | None = None) -> Authenticator:
    """Enrol `user` in TOTP (with recovery codes), as finishing allauth's enrolment does; a user
    already enrolled keeps their authenticator."""
    existing = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if existing:
        return existing
    authenticator = TOTP.activate(user, secret or generate_totp_secret()).instance
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).exists():
        RecoveryCodes.activate(user)
    return authenticator


def current_totp_code(secret: str) -> str:
    """The code an authenticator app set up with `secret` shows now. Waits for the next period
    when this one is about to end, so the code is still current when the server checks it."""
    period = mfa_settings.TOTP_PERIOD
    if period - time.time() % period < 2:
        time.sleep(period - time.time() % period + 0.05)
    return format_hotp_value(hotp_value(secret, int(time.time()) // period))


def totp_code(user) -> str:
    """The code `user`'s authenticator app shows now."""
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    return current_totp_code(decrypt(authenticator.data["secret"]))


class CoordinatorFactory(factory.django.DjangoModelFactory):
    """A coordinator, enrolled in TOTP as the site requires (`totp=False` for one who is not)."""

    class Meta:
        model = CoalitionRole
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    coalition = factory.SubFactory(CoalitionFactory)
    role = CoalitionRole.Role.COORDINATOR

    @factory.post_generation
    def totp(self, create, extracted, **kwargs):
        if create and extracted is not False:
            enrol_totp(self.user)


def emailed_invitation_token(email: str) -> str:
    """The token in the link of the latest invitation emailed to `email` (only its hash is stored)."""
    import re

    from coalition.models import OutboundEmail

    message = OutboundEmail.objects.filter(kind="invitation", recipient=email).latest("id")
    return re.search(r"/invitations/([^/\s]+)/", message.body_text).group(1)


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    coalition = factory.SubFactory(CoalitionFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.org")
    role = Invitation.Role.STAFF
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=14))


def make_statement(coalition, *, by, status="draft", coordinator=None, title="A statement", body="The text.",
                   summary="", language="en", **extra):
    """A statement made through the services (so its revisions and audit events are real), taken
    to `status`; `coordinator` takes the steps only coordinators may take (defaults to `by`)."""
    from statements import services
    from statements.services import Draft

    coordinator = coordinator or by
    statement = services.create_draft(coalition, by=by, draft=Draft(title, summary, body), language=language, **extra)
    steps = {
        "open": [lambda s: services.open_for_signature(s, by=coordinator, deadline=None)],
        "closed": ["open", lambda s: services.close_signing(s, by=coordinator)],
        "published": ["closed", lambda s: services.publish(s, by=coordinator)],
        "withdrawn": [lambda s: services.withdraw(s, by=coordinator, reason="No longer needed.")],
    }

    def take(name):
        for step in steps.get(name, []):
            take(step) if isinstance(step, str) else step(statement)

    take(status)
    statement.refresh_from_db()
    return statement


def confirmation(statement, action: str) -> dict:
    """The fields a coordinator's step needs from its review page (`statements.review`): that it
    was reviewed, the fingerprint of the warnings shown, and the acknowledgement of them."""
    from statements import review
    from statements.models import Statement
    from statements.workflow import Transition

    statement = Statement.objects.get(pk=statement.pk)
    findings = review.review(statement, Transition(action))
    return {"reviewed": "1", "fingerprint": findings.fingerprint, "acknowledged": "on"}
