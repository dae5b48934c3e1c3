"""One voice in Ukrainian: the compiled catalogues use the terms of docs/glossary-uk.md, and the
account pages that come from django-allauth speak in those terms too.

The rejected variants are read from the glossary's table, so adding a row there is enough to have it
checked here. The catalogues checked are the compiled ones the site serves (.mo), the project's and
the overrides of allauth's own Ukrainian."""

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from . import factories

ROOT = Path(__file__).resolve().parents[1]
GLOSSARY = ROOT / "docs" / "glossary-uk.md"
CATALOGUES = [Path(path) / "uk" / "LC_MESSAGES" / "django.mo" for path in settings.LOCALE_PATHS]
OVERRIDES = ROOT / "locale_overrides" / "uk" / "LC_MESSAGES" / "django.po"

LOWER = "а-яіїєґ"
CYRILLIC = LOWER + "А-ЯІЇЄҐ"
WORD = rf"[{CYRILLIC}\w’]"


def rejected_variants(glossary: str) -> dict[str, re.Pattern]:
    """The Rejected column of the glossary's Terms table: each «variant», `*` for any ending."""
    table = glossary.split("## Terms", 1)[1].split("\n## ", 1)[0]
    variants = {}
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 4 or cells[0] in ("English", "---"):
            continue
        for variant in re.findall(r"«([^»]+)»", cells[2]):
            pattern = r"\s+".join(
                re.escape(word).replace(r"\*", rf"{WORD}*") for word in variant.split())
            end = "" if variant.endswith("*") else rf"(?!{WORD})"
            variants[variant] = re.compile(rf"(?<!{WORD}){pattern}{end}", re.IGNORECASE)
    return variants


def translations(path: Path) -> list[tuple[str, str]]:
    """(English, each Ukrainian text) of a compiled catalogue, plural forms one by one; the English
    of a plural is its two forms joined by " | "."""
    pairs = []
    for entry in polib.mofile(str(path)):
        if not entry.msgid:
            continue  # the header
        if entry.msgid_plural:
            english = f"{entry.msgid} | {entry.msgid_plural}"
            pairs.extend((english, text) for text in entry.msgstr_plural.values() if text)
        elif entry.msgstr:
            pairs.append((entry.msgid, entry.msgstr))
    return pairs


def offences(check) -> list[str]:
    found = []
    for path in CATALOGUES:
        assert path.exists(), f"{path} is not compiled: run manage.py compilemessages"
        found += [f"{path.parents[3].name}: {msgid!r} -> {text!r}: {why}"
                  for msgid, text in translations(path) for why in check(msgid, text)]
    return found


def test_the_glossary_table_gives_rejected_variants():
    variants = rejected_variants(GLOSSARY.read_text(encoding="utf-8"))
    assert len(variants) > 60
    assert variants["аутентиф*"].search("Двофакторна аутентифікація")
    assert variants["оприлюдн*"].search("Заяву оприлюднено")
    assert variants["строк підписання"].search("Строк  підписання минув")
    assert not variants["член*"].search("розчленування")  # only at the start of a word
    assert not variants["оприлюдн*"].search("Заяву опубліковано")
    assert not variants["персонал"].search("персональні дані")  # a whole word unless it ends in *


@pytest.mark.parametrize("checker", ["rejected", "apostrophe", "paired_gender", "capital_vy", "quotes",
                                     "title_case", "placeholders"])
@pytest.mark.slow
def test_the_compiled_catalogues_keep_the_glossary_and_the_style(checker):
    found = offences(CHECKS[checker])
    assert not found, f"{len(found)} Ukrainian strings break the glossary:\n" + "\n".join(found)


def check_rejected(msgid, text):
    variants = rejected_variants(GLOSSARY.read_text(encoding="utf-8"))
    return [f"«{variant}» is rejected in docs/glossary-uk.md" for variant, pattern in variants.items()
            if pattern.search(text)]


def check_apostrophe(msgid, text):
    if re.search(rf"[{CYRILLIC}]['ʼ`][{CYRILLIC}]", text):
        return ["an apostrophe other than ’ (U+2019)"]
    return []


PAIRED = re.compile(r"\(\s*-?\s*(ла|ка|на|а|ня|иня|кою)\s*\)|/\s*-?(ла|ка)\b|шановна\s*/|шановний\s*/", re.I)


def check_paired_gender(msgid, text):
    return ["a paired gender form such as «(-ла)»"] if PAIRED.search(text) else []


def check_capital_vy(msgid, text):
    if re.search(rf"[{LOWER},] (Ви|Вас|Вам|Вами|Ваш\w*)\b", text):
        return ["«Ви» in capitals inside a sentence"]
    return []


def check_quotes(msgid, text):
    if "”" in text or ("“" in text and "„" not in text):
        return ["English quotes: use «…» (and „…“ inside)"]
    return []


def check_title_case(msgid, text):
    for part in re.split(r"[.:;!?—(«]", text):
        words = re.findall(rf"[{CYRILLIC}’]+", part)
        if len(words) >= 2 and all(word[0].isupper() for word in words):
            return ["every word in capitals (Title Case)"]
    return []


def placeholders(text):
    return re.findall(r"%\(\w+\)[sdf]|\{\w+\}|%[sd]", text)


def check_placeholders(msgid, text):
    if " | " in msgid:  # a plural form may leave out the count («одну годину»), but adds none
        if not set(placeholders(text)) <= set(placeholders(msgid)):
            return [f"placeholders {placeholders(text)} are not in {placeholders(msgid)}"]
    elif sorted(placeholders(text)) != sorted(placeholders(msgid)):
        return [f"placeholders {placeholders(text)} differ from {placeholders(msgid)}"]
    return []


CHECKS = {"rejected": check_rejected, "apostrophe": check_apostrophe, "paired_gender": check_paired_gender,
          "capital_vy": check_capital_vy, "quotes": check_quotes, "title_case": check_title_case,
          "placeholders": check_placeholders}


@pytest.mark.parametrize("text, checker", [
    ("Двофакторна аутентифікація", "rejected"),
    ("Заяву оприлюднено", "rejected"),
    ("Організації-члени коаліції", "rejected"),
    ("Ваше ім'я", "apostrophe"),
    ("Підписав(-ла) Олена", "paired_gender"),
    ("Шановна / шановний Олено,", "paired_gender"),
    ("Дякуємо, що Ви підписали", "capital_vy"),
    ("Заява “Свобода”", "quotes"),
    ("Аутентифікаційний Додаток Увімкнено", "title_case"),
])
def test_each_check_catches_what_it_is_for(text, checker):
    assert CHECKS[checker]("A message", text)


@pytest.mark.parametrize("text", ["Двофакторна автентифікація", "Ваше ім’я", "Підписано: Олена",
                                  "Доброго дня, %(name)s!", "Дякуємо, що ви підписали «%(title)s»."])
def test_good_ukrainian_passes_every_check(text):
    assert not [why for check in CHECKS.values() for why in check("%(name)s %(title)s", text)
                if "placeholders" not in why]


# allauth: its strings are translated by locale_overrides, which must win over allauth's own.

def override_entries():
    return [entry for entry in polib.pofile(str(OVERRIDES)) if entry.msgstr or entry.msgstr_plural]


def test_every_override_is_what_the_site_says_in_ukrainian():
    """Where the site's own catalogue has the same English (a template of ours uses it), ours is
    shown, and the checks above read it; every other override must be what is shown."""
    entries = override_entries()
    assert len(entries) > 100
    ours = {entry.msgid for entry in polib.mofile(str(CATALOGUES[0]))}
    with translation.override("uk"):
        for entry in (entry for entry in entries if entry.msgid not in ours):
            if entry.msgid_plural:
                shown = translation.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, 5) \
                    if entry.msgctxt else translation.ngettext(entry.msgid, entry.msgid_plural, 5)
                assert shown == entry.msgstr_plural[2], entry.msgid
            else:
                shown = translation.pgettext(entry.msgctxt, entry.msgid) if entry.msgctxt \
                    else translation.gettext(entry.msgid)
                assert shown == entry.msgstr, entry.msgid


def test_makemessages_writes_every_source_file_to_locale_never_to_the_overrides(monkeypatch):
    """makemessages writes each source file's strings to the first locale folder above it, and
    `--no-obsolete` then drops what no source uses: were that the overrides, they would be lost."""
    from django.core.management.commands import makemessages

    command = makemessages.Command()
    command.settings_available, command.symlinks, command.verbosity = True, False, 0
    command.ignore_patterns = [".venv", "tests", "bench", "CVS", ".*", "*~", "*.pyc"]  # as `make messages`
    command.extensions = {".py", ".html", ".txt"}
    command.locale_paths = [str(path) for path in settings.LOCALE_PATHS]
    command.default_locale_path = command.locale_paths[0]
    monkeypatch.chdir(ROOT)
    files = command.find_files(".")
    assert len(files) > 100
    assert {Path(file.locale_dir) for file in files} == {ROOT / "locale"}
    assert ROOT / "locale_overrides" in [Path(path) for path in settings.LOCALE_PATHS]


def ukrainian(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "uk"
    return client


def page_text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def assert_in_glossary_terms(page: str) -> None:
    variants = rejected_variants(GLOSSARY.read_text(encoding="utf-8"))
    visible = re.sub(r"<[^>]+>", " ", page)
    found = [variant for variant, pattern in variants.items() if pattern.search(visible)]
    assert not found, found
    assert not re.search(rf"[{CYRILLIC}]'[{CYRILLIC}]", visible)


@pytest.mark.django_db
def test_the_sign_in_and_password_reset_pages_speak_the_glossary(client):
    ukrainian(client)
    login = page_text(client.get(reverse("account_login")))
    assert "Запам’ятати мене" in login and "Remember" not in login
    assert_in_glossary_terms(login)
    reset = page_text(client.get(reverse("account_reset_password")))
    assert "пароль" in reset.lower() and "Password Reset" not in reset
    assert_in_glossary_terms(reset)


@pytest.mark.django_db
def test_the_two_factor_pages_speak_the_glossary(client, coalition):
    coordinator = factories.CoordinatorFactory(coalition=coalition, user__language="uk").user
    ukrainian(client)
    client.post(reverse("account_login"), {"login": coordinator.email, "password": factories.PASSWORD})
    code = client.get(reverse("mfa_authenticate"))
    assert_in_glossary_terms(page_text(code))
    client.post(reverse("mfa_authenticate"), {"code": factories.totp_code(coordinator)})
    index = page_text(client.get(reverse("mfa_index")))
    assert [" ".join(h1.split()) for h1 in re.findall(r"<h1>(.*?)</h1>", index, re.S)] == [
        "Двофакторна автентифікація"]
    assert "Two-Factor" not in index and "аутентиф" not in index.lower()
    assert_in_glossary_terms(index)
    client.post(reverse("account_reauthenticate"), {"password": factories.PASSWORD})
    for name in ("mfa_view_recovery_codes", "mfa_deactivate_totp"):
        assert_in_glossary_terms(page_text(client.get(reverse(name))))


@pytest.mark.django_db
def test_a_password_reset_email_in_ukrainian_speaks_the_glossary(client, django_capture_on_commit_callbacks):
    from coalition.models import OutboundEmail

    user = factories.UserFactory(language="uk")
    with django_capture_on_commit_callbacks(execute=True):
        ukrainian(client).post(reverse("account_reset_password"), {"email": user.email})
    email = OutboundEmail.objects.get(recipient=user.email)
    assert email.subject == "[Заяви коаліцій] Скидання пароля"
    assert "скинути пароль" in email.body_text
    assert email.body_text.startswith("Доброго дня!") and "Заяви коаліцій · http" in email.body_text
    assert "example.com" not in email.body_text  # the Sites framework's name is not the site's
    assert_in_glossary_terms(email.subject + "\n" + email.body_text)


@pytest.mark.django_db
@pytest.mark.parametrize("original, into, heading", [("en", "uk", "Переклад українською"),
                                                     ("uk", "en", "Переклад англійською")])
def test_a_language_inside_a_sentence_takes_the_form_ukrainian_gives_it(client, coalition, staff, original, into,
                                                                        heading):
    statement = factories.make_statement(coalition, by=staff, language=original)
    client.force_login(staff)
    page = page_text(ukrainian(client).get(reverse("statement_translate", args=[statement.slug, into])))
    assert f"<h1>{heading}</h1>" in page and "Переклад: " not in page
    with translation.override("uk"):
        from statements.templatetags.languages import translate_into
        assert translate_into(into) == heading.replace("Переклад", "Перекласти")


@pytest.mark.django_db
def test_the_statement_page_offers_a_translation_in_the_form_ukrainian_gives_the_language(client, coalition, staff):
    statement = factories.make_statement(coalition, by=staff, language="en")
    client.force_login(staff)
    page = page_text(ukrainian(client).get(statement.get_absolute_url()))
    assert "Перекласти українською</a>" in page and "Переклад: " not in page


@pytest.mark.django_db
def test_the_authenticator_activation_page_speaks_the_glossary(client, staff):
    ukrainian(client).post(reverse("account_login"), {"login": staff.email, "password": factories.PASSWORD})
    client.post(reverse("account_reauthenticate"), {"password": factories.PASSWORD})
    page = page_text(client.get(reverse("mfa_activate_totp")))
    assert "автентифікатор" in page and "QR-код" in page
    assert_in_glossary_terms(page)
