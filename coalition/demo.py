"""The demo coalition: Ukraine 5AM with its published membership, a partner organisation and the
demo users. Used by `manage.py seed_demo`; safe to run again (it changes nothing the second time)."""

from datetime import date
from pathlib import Path

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils.text import slugify

from .models import Coalition, CoalitionRole, Membership, Organisation, OrganisationRole, User

DEMO_PASSWORD = "coalition-demo"  # noqa: S105 (documented demo password)
MEMBERS_FILE = Path(__file__).resolve().parent / "demo" / "ukraine-5am-members.txt"

COALITION = {
    "slug": "ukraine-5am",
    "name": "Ukraine 5AM Coalition",
    "description": (
        "A coalition of Ukrainian human-rights organisations that document war crimes committed "
        "during Russia's war against Ukraine and speak together in open statements."
    ),
}
PARTNER = {
    "name": "Center for Civil Liberties",
    "description": "A Ukrainian human-rights organisation that has issued statements jointly with the Ukraine 5AM coalition.",
}
DESCRIPTIONS = {
    "Truth Hounds": "Documents war crimes in Ukraine and has initiated appeals that other members co-signed.",
    "Human Rights Center ZMINA": "A Ukrainian human-rights organisation and a member of the coalition.",
}

# (email, name, language, coordinator?, [(organisation name, can_sign)])
USERS = [
    ("coordinator@example.org", "Olena Koval", "uk", True, []),
    ("signer@example.org", "Andrii Melnyk", "uk", False, [("Truth Hounds", True), ("Human Rights Center ZMINA", True)]),
    ("drafter@example.org", "Iryna Bondar", "en", False, [("Truth Hounds", False)]),
    ("outsider@example.org", "Sam Taylor", "en", False, []),
]


def member_names() -> list[str]:
    return [line.strip() for line in MEMBERS_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]


def unique_slug(name: str) -> str:
    return slugify(name.replace("‘", "").replace("’", ""))[:80]


def _organisation(name: str, description: str = "") -> Organisation:
    organisation, _ = Organisation.objects.get_or_create(
        name=name, defaults={"slug": unique_slug(name), "description": description}
    )
    return organisation


@transaction.atomic
def seed_membership() -> Coalition:
    coalition, _ = Coalition.objects.get_or_create(slug=COALITION["slug"], defaults=COALITION)
    for name in member_names():
        organisation = _organisation(name, DESCRIPTIONS.get(name, ""))
        if not Membership.objects.current().filter(coalition=coalition, organisation=organisation).exists():
            Membership.objects.create(coalition=coalition, organisation=organisation, joined=date(2022, 3, 1))
    _organisation(PARTNER["name"], PARTNER["description"])
    return coalition


@transaction.atomic
def seed_users(coalition: Coalition) -> list[User]:
    users = []
    for email, name, language, coordinator, roles in USERS:
        user = User.objects.filter(email=email).first() or User(email=email)
        user.name, user.language = name, language
        # The demo coordinator is also the demo's site operator, so the admin can be tried.
        user.is_staff = user.is_superuser = coordinator
        user.set_password(DEMO_PASSWORD)
        user.save()
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        if coordinator:
            CoalitionRole.objects.get_or_create(user=user, coalition=coalition, role=CoalitionRole.Role.COORDINATOR)
        for organisation_name, can_sign in roles:
            organisation = Organisation.objects.get(name=organisation_name)
            OrganisationRole.objects.update_or_create(
                user=user, organisation=organisation, defaults={"can_sign": can_sign}
            )
        users.append(user)
    return users
