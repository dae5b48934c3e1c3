"""Names in both languages (issue 15): coalitions and organisations are named and described in
each language of the site, on pages, in emails, in the API and in the PDF of each language, with
the English name where a language has none; the place and date of publication are the
statement's, in the PDF's language."""

import subprocess

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from coalition import names
from coalition.admin import names_form
from coalition.models import Coalition, Organisation, OutboundEmail

from statements import pdf, services
from statements.models import Publication
from statements.services import cosigning, publishing

from . import factories

pytestmark = pytest.mark.django_db

UKRAINIAN_COALITION = "Коаліція «Україна. П’ята ранку»"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def coalition(db):
    return factories.CoalitionFactory(
        name="Ukraine 5AM Coalition", slug="ukraine-5am",
        translations={"uk": {"name": UKRAINIAN_COALITION, "description": "Коаліція правозахисних організацій."}},
        places={"en": "Kyiv", "uk": "Київ"})


@pytest.fixture
def ccl(coalition):
    return factories.MembershipFactory(
        coalition=coalition, organisation__name="Center for Civil Liberties",
        organisation__translations={"uk": {"name": "Центр громадянських свобод"}}).organisation


@pytest.fixture
def hounds(coalition):
    """A member without a Ukrainian name of its own."""
    return factories.MembershipFactory(coalition=coalition, organisation__name="Truth Hounds").organisation


def signed_statement(coalition, coordinator, organisations, *, language="en", status="closed"):
    statement = factories.make_statement(coalition, by=coordinator, status="open", language=language,
                                         title="Суд чекає" if language == "uk" else "The Court waits")
    for organisation in organisations:
        user = factories.OrganisationRoleFactory(organisation=organisation, can_sign=True).user
        cosigning.sign_for_organisation(statement, by=user, organisation=organisation,
                                        sha256=statement.signed_revision.sha256)
    if status == "closed":
        services.close_signing(statement, by=coordinator)
    statement.refresh_from_db()
    return statement


def publish(statement, coordinator, capture, **kwargs) -> Publication:
    with capture(execute=True):
        services.publish(statement, by=coordinator, **kwargs)
    return statement.publications.get(number=1)


def pdftotext(data: bytes) -> str:
    return " ".join(subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True,
                                   check=True).stdout.decode().split())


# Pages --------------------------------------------------------------------------------------------


def test_a_ukrainian_page_shows_ukrainian_names_and_an_english_page_english_ones(client, coalition, ccl, hounds):
    uk = client.get(reverse("organisation_list"), HTTP_ACCEPT_LANGUAGE="uk").content.decode()
    assert "Центр громадянських свобод" in uk and "Center for Civil Liberties" not in uk
    assert "Truth Hounds" in uk  # no Ukrainian name of its own: the English one
    en = client.get(reverse("organisation_list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Center for Civil Liberties" in en and "Центр громадянських свобод" not in en
    page = client.get(coalition.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="uk").content.decode()
    assert UKRAINIAN_COALITION.replace("«", "&laquo;") in page or UKRAINIAN_COALITION in page
    assert "Коаліція правозахисних організацій." in page and "Центр громадянських свобод" in page


def test_a_statements_signatories_are_named_in_the_readers_language(client, coalition, coordinator, ccl, hounds):
    statement = signed_statement(coalition, coordinator, [ccl, hounds], status="open")
    client.force_login(coordinator)
    client.cookies["django_language"] = "uk"
    uk = client.get(statement.get_absolute_url()).content.decode()
    assert "Центр громадянських свобод" in uk and "Center for Civil Liberties" not in uk and "Truth Hounds" in uk
    client.cookies["django_language"] = "en"
    en = client.get(statement.get_absolute_url()).content.decode()
    assert "Center for Civil Liberties" in en and "Центр громадянських свобод" not in en


def test_organisations_sort_in_the_order_of_the_ukrainian_alphabet(client, coalition):
    order = ["Гарт", "Ґанок", "Ера", "Єва", "Жовтень", "Ирій", "Ірпінь", "Історія", "Їжак", "Йорданія", "Яблуко"]
    for i, name in enumerate(reversed(order)):
        factories.OrganisationFactory(name=f"Org {i}", translations={"uk": {"name": name}})
    page = client.get(reverse("organisation_list"), HTTP_ACCEPT_LANGUAGE="uk").content.decode()
    assert sorted(order, key=page.index) == order
    assert sorted(order) != order  # code-point order would put «Є», «І», «Ї» and «Ґ» elsewhere


def test_the_sort_key_ignores_case_opening_quotes_and_apostrophes():
    assert names.sort_key("‘Almenda’", "en") < names.sort_key("Blue Bird", "en")
    assert names.sort_key("Об’єднання", "uk") == names.sort_key("обєднання", "uk")
    assert names.sort_key("Ґрунт", "uk") > names.sort_key("Гуманітарний", "uk")


def test_in_ukrainian_cyrillic_names_come_before_latin_ones_and_in_english_after():
    listed = ["Центр прав людини ZMINA", "Truth Hounds", "Альменда", "5AM", "DEJURE"]
    assert sorted(listed, key=lambda n: names.sort_key(n, "uk")) == [
        "5AM", "Альменда", "Центр прав людини ZMINA", "DEJURE", "Truth Hounds"]
    assert sorted(listed, key=lambda n: names.sort_key(n, "en")) == [
        "5AM", "DEJURE", "Truth Hounds", "Альменда", "Центр прав людини ZMINA"]


def test_the_archive_filter_offers_organisations_by_their_name_in_the_readers_language(
        client, coalition, coordinator, ccl, hounds, django_capture_on_commit_callbacks):
    publish(signed_statement(coalition, coordinator, [ccl, hounds]), coordinator, django_capture_on_commit_callbacks)
    page = client.get(reverse("statement_list"), HTTP_ACCEPT_LANGUAGE="uk").content.decode()
    assert '<option value="center-for-civil-liberties">Центр громадянських свобод</option>' in page.replace(
        f'value="{ccl.slug}"', 'value="center-for-civil-liberties"')


# Emails ------------------------------------------------------------------------------------------


def test_an_email_names_the_coalition_and_organisation_in_the_recipients_language(
        coalition, coordinator, ccl, django_capture_on_commit_callbacks):
    ukrainian = factories.OrganisationRoleFactory(organisation=ccl, can_sign=True, user__language="uk").user
    english = factories.OrganisationRoleFactory(organisation=ccl, can_sign=True, user__language="en").user
    statement = factories.make_statement(coalition, by=coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        services.open_for_signature(statement, by=coordinator, deadline=None)
    uk = OutboundEmail.objects.get(recipient=ukrainian.email, kind="statement_opened")
    assert UKRAINIAN_COALITION in uk.body_text and "Центр громадянських свобод" in uk.body_text
    assert "Ukraine 5AM Coalition" not in uk.body_text
    en = OutboundEmail.objects.get(recipient=english.email, kind="statement_opened")
    assert "Ukraine 5AM Coalition" in en.body_text and "Center for Civil Liberties" in en.body_text


# The PDF and the issue's frozen list ----------------------------------------------------------------


def test_the_pdf_of_a_ukrainian_statement_is_headed_by_the_ukrainian_name_and_dated_at_its_own_place(
        client, coalition, coordinator, ccl, hounds, django_capture_on_commit_callbacks):
    statement = signed_statement(coalition, coordinator, [ccl, hounds], language="uk")
    issue = publish(statement, coordinator, django_capture_on_commit_callbacks, place="Харків")
    assert issue.places == {"en": "Kyiv", "uk": "Харків"}
    words = pdftotext(issue.pdf.read())
    with translation.override("uk"):
        today = pdf.long_date(timezone.localdate(issue.created_at))
    assert UKRAINIAN_COALITION in words and "Ukraine 5AM Coalition" not in words
    assert f"Харків, {today}" in words and "Kyiv" not in words and "Київ" not in words
    assert "Центр громадянських свобод" in words and "Truth Hounds" in words


def test_without_a_place_of_its_own_a_statement_is_dated_at_the_coalitions_place(
        coalition, coordinator, ccl, django_capture_on_commit_callbacks):
    statement = signed_statement(coalition, coordinator, [ccl], language="uk")
    issue = publish(statement, coordinator, django_capture_on_commit_callbacks)
    assert issue.places == {"en": "Kyiv", "uk": "Київ"}
    assert publishing.document(issue).place == "Київ"


def test_the_publish_form_refuses_a_place_with_a_web_address(client, coalition, coordinator, ccl):
    statement = signed_statement(coalition, coordinator, [ccl])
    client.force_login(coordinator)
    response = client.get(reverse("statement_review", args=[statement.slug, "publish"]),
                          {"place": "Kyiv https://evil.example"})
    assert response.status_code == 400
    assert "A name cannot contain a web address" in response.content.decode()
    statement.refresh_from_db()
    assert statement.status == "closed"


def test_the_coordinator_sets_the_place_on_the_publish_form(client, coalition, coordinator, ccl,
                                                            django_capture_on_commit_callbacks):
    statement = signed_statement(coalition, coordinator, [ccl], language="uk")
    client.force_login(coordinator)
    review = client.get(reverse("statement_review", args=[statement.slug, "publish"])).content.decode()
    assert 'name="place"' in review and 'value="Київ"' in review  # the coalition's, to change
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("statement_publish", args=[statement.slug]),
                               {**factories.confirmation(statement, "publish"), "place": "Одеса"})
    assert response.status_code == 302
    statement.refresh_from_db()
    assert statement.places == {"uk": "Одеса"} and statement.publications.get().places["uk"] == "Одеса"


def test_an_issue_keeps_the_names_it_was_published_with_after_a_rename(
        coalition, coordinator, ccl, django_capture_on_commit_callbacks):
    statement = signed_statement(coalition, coordinator, [ccl], language="uk")
    issue = publish(statement, coordinator, django_capture_on_commit_callbacks)
    ccl.translations = {"uk": {"name": "Нова назва"}}
    ccl.save()
    issue.refresh_from_db()
    assert [o.name for o in publishing.document(issue).signed_organisations] == ["Центр громадянських свобод"]
    carried = pdf.embedded_signatories(issue.pdf.read())
    assert carried["organisations"][0]["names"] == {"en": "Center for Civil Liberties", "uk": "Центр громадянських свобод"}


def test_after_a_rename_the_published_page_and_api_say_which_name_was_signed(
        client, coalition, coordinator, ccl, hounds, django_capture_on_commit_callbacks):
    statement = signed_statement(coalition, coordinator, [ccl, hounds])
    publish(statement, coordinator, django_capture_on_commit_callbacks)
    url = statement.get_absolute_url()
    assert "signed as" not in client.get(url).content.decode()  # stored now, before the rename
    ccl.name, ccl.translations = "Centre for Civil Liberties", {"uk": {"name": "Нова назва"}}
    ccl.save()
    page = client.get(url).content.decode()
    assert "Centre for Civil Liberties</a> <span class=\"muted\">(signed as Center for Civil Liberties)</span>" in page
    assert page.count("signed as") == 1  # Truth Hounds kept its name
    ukrainian = client.get(url, HTTP_ACCEPT_LANGUAGE="uk").content.decode()
    assert "Нова назва</a> <span class=\"muted\">(підписано як Центр громадянських свобод)</span>" in ukrainian
    data = client.get(reverse("api_statement", args=[statement.slug])).json()
    by_slug = {o["slug"]: o for o in data["signatories"]["organisations"]}
    assert by_slug[ccl.slug]["names"] == {"en": "Centre for Civil Liberties", "uk": "Нова назва"}
    assert by_slug[ccl.slug]["published_names"] == {"en": "Center for Civil Liberties", "uk": "Центр громадянських свобод"}
    assert by_slug[hounds.slug]["published_names"] == {"en": "Truth Hounds", "uk": "Truth Hounds"}


def test_before_publication_nobody_is_signed_as_anything(client, coalition, coordinator, ccl):
    statement = signed_statement(coalition, coordinator, [ccl], status="open")
    client.force_login(coordinator)
    ccl.name = "Centre for Civil Liberties"
    ccl.save()
    page = client.get(statement.get_absolute_url()).content.decode()
    assert "Centre for Civil Liberties" in page and "signed as" not in page


def test_an_issue_frozen_before_names_had_languages_still_renders(coalition, coordinator, ccl):
    statement = signed_statement(coalition, coordinator, [ccl], language="uk")
    issue = Publication.objects.create(
        statement=statement, number=1, revision=statement.signed_revision, created_by=coordinator, place="Kyiv",
        signatories={"organisations": ["A bare old name", {"name": "Center for Civil Liberties", "slug": ccl.slug,
                                                             "sha256": "", "signed_at": ""}],
                     "individuals": []})
    document = publishing.document(issue)
    assert [o.name for o in document.signed_organisations] == ["A bare old name", "Center for Civil Liberties"]
    assert document.place == "Kyiv"  # the one place such an issue kept serves every language
    assert publishing.organisation_names(issue.signatories, "uk") == ["A bare old name", "Center for Civil Liberties"]
    html = pdf.render_html(document)
    assert "A bare old name" in html and UKRAINIAN_COALITION in html
    assert all("names" not in o for o in pdf.signatory_list(document)["organisations"])


# The API ----------------------------------------------------------------------------------------


def test_the_api_gives_names_in_every_language(client, coalition, coordinator, ccl, hounds,
                                                 django_capture_on_commit_callbacks):
    statement = signed_statement(coalition, coordinator, [ccl, hounds])
    publish(statement, coordinator, django_capture_on_commit_callbacks)
    data = client.get(reverse("api_statement", args=[statement.slug])).json()
    assert data["coalition_names"] == {"en": "Ukraine 5AM Coalition", "uk": UKRAINIAN_COALITION}
    by_slug = {o["slug"]: o["names"] for o in data["signatories"]["organisations"]}
    assert by_slug[ccl.slug] == {"en": "Center for Civil Liberties", "uk": "Центр громадянських свобод"}
    assert by_slug[hounds.slug] == {"en": "Truth Hounds", "uk": "Truth Hounds"}


# Validation -------------------------------------------------------------------------------------


@pytest.mark.parametrize("translations, message", [
    ({"xx": {"name": "Name"}}, "is not one of the site’s other languages"),
    ({"en": {"name": "Name"}}, "is not one of the site’s other languages"),  # English is `name` itself
    ({"uk": {"name": "Центр https://evil.example"}}, "cannot contain a web address"),
    ({"uk": {"name": "Центр\u202eсвобод"}}, "bidi"),
    ({"uk": {"name": "Центр\nсвобод"}}, "invisible or control character"),
    ({"uk": {"name": "Ц" * 201}}, "longer than 200 characters"),
    ({"uk": {"description": "Дивіться www.evil.example"}}, "cannot contain a web address"),
    ({"uk": {"name": "Центр", "motto": "…"}}, "only a name and a description"),
    ({"uk": "Центр"}, "only a name and a description"),
    (["uk"], "object of languages"),
])
def test_names_in_every_language_are_validated_as_the_original_is(translations, message):
    with pytest.raises(ValidationError) as caught:
        names.clean_translations(translations)
    assert message in " ".join(caught.value.messages)


def test_a_ukrainian_name_must_be_no_other_organisations_name(ccl, hounds):
    hounds.translations = {"uk": {"name": "центр громадянських свобод"}}
    with pytest.raises(ValidationError, match="already the name of another organisation"):
        hounds.full_clean()
    hounds.translations = {"uk": {"name": "Truth Hounds"}}  # its own English name is fine
    hounds.full_clean()


def test_the_admin_form_has_a_name_field_per_language_and_refuses_bad_input(ccl, hounds):
    form_class = names_form(Organisation)
    form = form_class(instance=ccl)
    assert form["name_uk"].value() == "Центр громадянських свобод" and "Name (Ukrainian)" in str(form["name_uk"].label)
    data = {"name": ccl.name, "slug": ccl.slug, "description": "", "website": "", "created_at": "2024-01-01 10:00",
            "name_uk": "Центр\u202eсвобод",
            "description_uk": ""}
    form = form_class(data, instance=ccl)
    assert not form.is_valid() and "bidi" in str(form.errors)
    form = form_class({**data, "name_uk": "Центр громадянських свобод (Київ)", "description_uk": "Опис."}, instance=ccl)
    assert form.is_valid(), form.errors
    form.save()
    ccl.refresh_from_db()
    assert ccl.translations == {"uk": {"name": "Центр громадянських свобод (Київ)", "description": "Опис."}}


def test_the_admin_saves_a_ukrainian_name_and_warns_when_it_looks_like_another_organisations(
        client, coordinator, ccl):
    from .helpers import inline_management

    coordinator.is_staff = coordinator.is_superuser = True
    coordinator.save()
    client.force_login(coordinator)
    impostor = "Центр грoмадянських свобод"  # a Latin o
    response = client.post(reverse("admin:coalition_organisation_add"), {
        "name": "Civil Liberties Centre", "slug": "clc", "description": "", "website": "", "name_uk": impostor,
        "description_uk": "", **inline_management()}, follow=True)
    assert Organisation.objects.get(slug="clc").name_in("uk") == impostor
    assert f"“{impostor}” looks like “Центр громадянських свобод”" in response.content.decode()
    response = client.post(reverse("admin:coalition_organisation_add"), {
        "name": "Another", "slug": "another", "description": "", "website": "",
        "name_uk": "центр громадянських свобод", "description_uk": "", **inline_management()})
    assert response.status_code == 200 and not Organisation.objects.filter(slug="another").exists()
    assert "already the name of another organisation" in response.content.decode()


def test_nobody_signs_as_an_individual_named_like_an_organisations_ukrainian_name(client, coalition, coordinator, ccl):
    from .helpers import sign

    statement = factories.make_statement(coalition, by=coordinator, status="open", allows_individuals=True)
    response = sign(client, statement, name="Центр громадянських свобод")
    assert response.status_code == 400
    assert "“Центр громадянських свобод” is the name of an organisation" in response.content.decode()


def test_the_coalition_admin_form_keeps_a_place_per_language(coalition):
    form_class = names_form(Coalition, with_places=True)
    data = {"name": coalition.name, "slug": coalition.slug, "description": "", "website": "", "created_at": "2024-01-01 10:00",
            "name_uk": UKRAINIAN_COALITION, "description_uk": "", "place_en": "Lviv", "place_uk": "Львів"}
    form = form_class(data, instance=coalition)
    assert form.is_valid(), form.errors
    form.save()
    coalition.refresh_from_db()
    assert coalition.places == {"en": "Lviv", "uk": "Львів"} and coalition.name_in("uk") == UKRAINIAN_COALITION


def test_a_language_added_to_the_settings_gets_its_names_without_code_changes(settings, ccl):
    settings.LANGUAGES = [*settings.LANGUAGES, ("pl", "Polish")]
    cleaned = names.clean_translations({"pl": {"name": "Centrum Swobód Obywatelskich"}, "uk": {"name": "Центр"}})
    assert cleaned["pl"] == {"name": "Centrum Swobód Obywatelskich"}
    assert "name_pl" in names_form(Organisation)().fields
    assert ccl.name_in("pl") == "Center for Civil Liberties"


def test_the_demo_coalition_and_members_have_their_ukrainian_names():
    from coalition import demo

    coalition = demo.seed_membership()
    assert coalition.name_in("uk") == UKRAINIAN_COALITION and coalition.place_in("uk") == "Київ"
    assert Organisation.objects.get(name="Human Rights Center ZMINA").name_in("uk") == "Центр прав людини ZMINA"
    assert Organisation.objects.get(name="Advocacy Advisory Panel").name_in("uk") == "Advocacy Advisory Panel"
    confirmed = demo.ukrainian_names()
    assert set(confirmed) <= set(demo.organisation_names())  # every row names a demo organisation
    demo.seed_membership()  # again: nothing changes
    assert Organisation.objects.filter(demo=True).count() == len(demo.organisation_names())
