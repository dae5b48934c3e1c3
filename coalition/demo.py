"""The demo coalition: Ukraine 5AM with its published membership, a partner organisation and the
demo users. Used by `manage.py seed_demo`; safe to run again (it changes nothing the second time).

The coalition and organisations it makes are marked `demo`, and it gives the demo users roles only
on those: on a database holding a real organisation or coalition of a demo name, `check_only_demo`
refuses before anything is written, so the published demo passwords never reach real authority.
"""

from datetime import date
from pathlib import Path

from allauth.account.models import EmailAddress
from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from allauth.mfa.utils import decrypt, encrypt
from django.db import transaction
from django.utils.text import slugify

from . import look
from .models import Coalition, CoalitionRole, Membership, Organisation, OrganisationRole, User

DEMO_PASSWORD = "coalition-demo"  # noqa: S105 (documented demo password)
# The demo coordinator's TOTP key (base32), published in the README and printed by seed_demo so
# anyone can add it to an authenticator app. A demo key only: never reuse it for a real account.
DEMO_TOTP_SECRET = "COALITIONSTATEMENTSDEMOTOTPKEY23"  # noqa: S105
MEMBERS_FILE = Path(__file__).resolve().parent / "demo" / "ukraine-5am-members.txt"
# The Ukrainian names as the organisations write them, each with its source; an organisation not
# listed there keeps its English name in Ukrainian (coalition/demo/names-uk.md).
UKRAINIAN_NAMES_FILE = Path(__file__).resolve().parent / "demo" / "names-uk.tsv"
DEMO_LOGO = Path(__file__).resolve().parent.parent / "static" / "img" / "coalition-logo.svg"
DEMO_ACCENT = "#1d3b6b"

COALITION = {
    "slug": "ukraine-5am",
    "name": "Ukraine 5AM Coalition",
    "description": (
        "A coalition of Ukrainian human-rights organisations that document war crimes committed "
        "during Russia's war against Ukraine and speak together in open statements."
    ),
    "translations": {"uk": {
        # How the coalition names itself in Ukrainian («Україна. П’ята ранку»; “Ukraina. Piąta rano” in
        # DW's Polish report quoting its co-founder, “Ukraine. Cinq heures du matin” on its own site).
        "name": "Коаліція «Україна. П’ята ранку»",
        "description": ("Коаліція українських правозахисних організацій, які документують воєнні злочини, "
                        "скоєні під час війни Росії проти України, і разом виступають із відкритими заявами."),
    }},
    "places": {"en": "Kyiv", "uk": "Київ"},
}
PARTNER = {
    "name": "Center for Civil Liberties",
    "description": "A Ukrainian human-rights organisation that has issued statements jointly with the Ukraine 5AM coalition.",
}
DESCRIPTIONS = {
    "Truth Hounds": "Documents war crimes in Ukraine and has initiated appeals that other members co-signed.",
    "Human Rights Center ZMINA": "A Ukrainian human-rights organisation and a member of the coalition.",
}
UKRAINIAN_DESCRIPTIONS = {
    "Center for Civil Liberties": ("Українська правозахисна організація, яка виступала зі спільними заявами "
                                   "з коаліцією «Україна. П’ята ранку»."),
    "Truth Hounds": "Документує воєнні злочини в Україні; ініціювала звернення, які підписали інші учасники коаліції.",
    "Human Rights Center ZMINA": "Українська правозахисна організація, учасниця коаліції.",
}

# (email, name, language, coordinator?, [(organisation name, can_sign)])
USERS = [
    ("coordinator@example.org", "Olena Koval", "uk", True, []),
    ("signer@example.org", "Andrii Melnyk", "uk", False, [("Truth Hounds", True), ("Human Rights Center ZMINA", True)]),
    ("drafter@example.org", "Iryna Bondar", "en", False, [("Truth Hounds", False)]),
    ("outsider@example.org", "Sam Taylor", "en", False, []),
]


def ukrainian_names() -> dict[str, str]:
    """English name -> Ukrainian name, from names-uk.tsv (its sources are in the file)."""
    rows = (line.split("\t") for line in UKRAINIAN_NAMES_FILE.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#"))
    return {row[0]: row[1] for row in rows}


def translations_of(name: str) -> dict:
    """The demo organisation's names in Ukrainian: its own where it was confirmed, else none (the
    English name shows)."""
    entry = {"name": ukrainian_names().get(name, ""), "description": UKRAINIAN_DESCRIPTIONS.get(name, "")}
    entry = {field: value for field, value in entry.items() if value}
    return {"uk": entry} if entry else {}


def member_names() -> list[str]:
    return [line.strip() for line in MEMBERS_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]


def unique_slug(name: str) -> str:
    return slugify(name.replace("‘", "").replace("’", ""))[:80]


class NotDemoData(Exception):
    """The database holds a coalition or organisations of the demo's names that seed_demo did not
    make; the message names them."""


def organisation_names() -> list[str]:
    return [*member_names(), PARTNER["name"]]


def check_only_demo() -> None:
    """Refuses (NotDemoData) when a demo name belongs to something seed_demo did not make."""
    real = [f"the coalition “{c.name}” ({c.slug})"
            for c in Coalition.objects.filter(slug=COALITION["slug"], demo=False)]
    real += [f"“{name}”" for name in Organisation.objects.filter(name__in=organisation_names(), demo=False)
             .order_by("name").values_list("name", flat=True)]
    if real:
        raise NotDemoData(
            "seed_demo made none of these, so it will not give its demo users roles on them: "
            + ", ".join(real) + ". Run it on a database of its own.")


def demo_organisation(name: str) -> Organisation:
    """An organisation seed_demo made (never a real one of the same name)."""
    return Organisation.objects.get(name=name, demo=True)


def _organisation(name: str, description: str = "") -> Organisation:
    organisation, _ = Organisation.objects.get_or_create(
        name=name, defaults={"slug": unique_slug(name), "description": description, "demo": True,
                             "translations": translations_of(name)}
    )
    if not organisation.demo:
        raise NotDemoData(f"“{name}” was not made by seed_demo.")
    if organisation.translations != translations_of(name):  # a database seeded before names had languages
        organisation.translations = translations_of(name)
        organisation.save(update_fields=["translations"])
    return organisation


@transaction.atomic
def seed_membership() -> Coalition:
    check_only_demo()
    coalition, _ = Coalition.objects.get_or_create(slug=COALITION["slug"], defaults={**COALITION, "demo": True})
    if not coalition.demo:
        raise NotDemoData(f"The coalition {coalition.slug} was not made by seed_demo.")
    if (coalition.translations, coalition.places) != (COALITION["translations"], COALITION["places"]):
        coalition.translations, coalition.places = COALITION["translations"], COALITION["places"]
        coalition.save(update_fields=["translations", "places"])
    if not coalition.has_look:  # the letterhead's mark and navy, as the coalition's own look
        coalition.logo = look.store_logo(coalition, look.sanitise_svg(DEMO_LOGO.read_bytes()), "svg")
        coalition.accent = DEMO_ACCENT
        coalition.save(update_fields=["logo", "accent"])
    for name in member_names():
        organisation = _organisation(name, DESCRIPTIONS.get(name, ""))
        if not Membership.objects.current().filter(coalition=coalition, organisation=organisation).exists():
            Membership.objects.create(coalition=coalition, organisation=organisation, joined=date(2022, 3, 1))
    _organisation(PARTNER["name"], PARTNER["description"])
    return coalition


@transaction.atomic
def seed_users(coalition: Coalition) -> list[User]:
    if not coalition.demo:
        raise NotDemoData(f"The coalition {coalition.slug} was not made by seed_demo.")
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
            enrol_in_totp(user)
        for organisation_name, can_sign in roles:
            organisation = demo_organisation(organisation_name)
            OrganisationRole.objects.update_or_create(
                user=user, organisation=organisation, coalition=coalition, defaults={"can_sign": can_sign}
            )
        users.append(user)
    return users


def enrol_in_totp(user: User) -> None:
    """Coordinators must use two-factor authentication: the demo coordinator's authenticator uses
    the published DEMO_TOTP_SECRET, and has recovery codes. Running again changes nothing."""
    totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if totp is None:
        TOTP.activate(user, DEMO_TOTP_SECRET)
    elif decrypt(totp.data["secret"]) != DEMO_TOTP_SECRET:
        totp.data = {**totp.data, "secret": encrypt(DEMO_TOTP_SECRET)}
        totp.save(update_fields=["data"])
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).exists():
        RecoveryCodes.activate(user)


def totp_uri(user: User) -> str:
    """The otpauth:// address an authenticator app takes for the demo coordinator's key."""
    return get_mfa_adapter().build_totp_url(user, DEMO_TOTP_SECRET)


def recovery_codes(user: User) -> list[str]:
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES)
    return RecoveryCodes(authenticator).get_unused_codes()
