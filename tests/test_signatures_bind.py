"""Signatures bind to the text published: after the text changes while open, only those who
signed (or confirmed) the final text are its signatories, everywhere; and one rule for
translations of an earlier text: the public never reads them."""

import csv
import io
import subprocess

import pytest
from django.urls import reverse
from django.utils import timezone

from coalition.models import EmailOptOut, OutboundEmail

from statements import selectors, services
from statements.models import Signature
from statements.services import cosigning
from statements.services import Draft

from .factories import MembershipFactory, OrganisationRoleFactory, UserFactory, make_statement

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def pdftotext(data: bytes) -> str:
    return " ".join(subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True,
                                   check=True).stdout.decode().split())


def member(coalition, name):
    organisation = MembershipFactory(coalition=coalition, organisation__name=name).organisation
    return organisation, OrganisationRoleFactory(organisation=organisation, can_sign=True).user


def individual(statement, name, revision=None):
    revision = revision or statement.signed_revision
    return Signature.objects.create(statement=statement, revision=revision, sha256=revision.sha256,
                                    kind=Signature.Kind.INDIVIDUAL, name=name, email=f"{name.split()[0]}@example.org",
                                    confirmed_at=timezone.now())


def page(client, url, user=None, **query):
    client.logout()
    if user is not None:
        client.force_login(user)
    response = client.get(url, query)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def changed(coalition, coordinator):
    """Open to organisations and individuals; two organisations and one individual sign revision 1;
    a coordinator changes the text; one organisation confirms it, another individual signs it."""
    statement = make_statement(coalition, by=coordinator, status="open", title="Release the hostages",
                               body="We call for the release.", allows_individuals=True)
    confirming, confirming_signer = member(coalition, "Confirming Rights Group")
    lapsed, lapsed_signer = member(coalition, "Lapsed Monitoring Centre")
    first = statement.signed_revision
    signature = cosigning.sign_for_organisation(statement, by=confirming_signer, organisation=confirming,
                                                sha256=first.sha256)
    cosigning.sign_for_organisation(statement, by=lapsed_signer, organisation=lapsed, sha256=first.sha256)
    individual(statement, "Stale Person")
    new = services.save_revision(statement, by=coordinator, based_on=first,
                                 draft=Draft("Release the hostages now", "", "We call for the immediate release."))
    statement.refresh_from_db()
    cosigning.confirm_new_text(signature, by=confirming_signer, sha256=new.sha256)
    individual(statement, "Fresh Person", revision=new)
    statement.staff = OrganisationRoleFactory(organisation=confirming).user
    statement.lapsed, statement.lapsed_signer, statement.confirming = lapsed, lapsed_signer, confirming
    return statement


def test_while_open_members_see_who_signed_an_earlier_text_and_the_public_does_not(client, changed):
    url = changed.get_absolute_url()
    public = page(client, url)
    assert "Confirming Rights Group" in public and "Fresh Person" in public
    assert "Lapsed Monitoring Centre" not in public and "Stale Person" not in public
    assert "1 organisation" in public and "1 individual" in public
    staff = page(client, url, changed.staff)
    assert "Signed an earlier text, not yet confirmed" in staff
    earlier = staff.split("Signed an earlier text, not yet confirmed")[1].split("</ul>")[0]
    assert "Lapsed Monitoring Centre" in earlier and "Stale Person" in earlier
    assert "Confirming Rights Group" not in earlier and "revision 1" in earlier


def test_the_roster_names_who_signed_an_earlier_text_and_counts_only_the_current_text(client, changed, coordinator):
    roster = page(client, reverse("statement_roster", args=[changed.slug]), coordinator)
    assert "Signed (1 organisation)" in roster
    assert "Signed an earlier text, not confirmed (1 organisation)" in roster
    earlier = roster.split('id="earlier-heading"')[1].split("</section>")[0]
    assert "Lapsed Monitoring Centre" in earlier and "signed revision 1, not confirmed" in earlier
    assert "Confirming Rights Group" not in earlier
    individuals = roster.split('id="individuals-heading"')[1].split("</section>")[0]
    stale_row = individuals.split("Stale Person")[1].split("</tr>")[0]
    assert "signed revision 1, not confirmed" in stale_row


def test_after_a_text_change_only_those_who_confirmed_it_are_published_everywhere(
        client, changed, coordinator, django_capture_on_commit_callbacks):
    url = changed.get_absolute_url()
    close_step = page(client, url, coordinator)
    assert "will NOT be named" in close_step and "Lapsed Monitoring Centre" in close_step.split("will NOT be named")[1]
    services.close_signing(changed, by=coordinator)
    changed.refresh_from_db()

    publish_step = page(client, url, coordinator)
    notice = publish_step.split(f'action="{reverse("statement_review", args=[changed.slug, "publish"])}"')[1]
    notice = notice.split("</form>")[0]
    assert "will NOT be named" in notice
    review_page = page(client, reverse("statement_review", args=[changed.slug, "publish"]), coordinator)
    warnings = review_page.split('id="warnings-heading"')[1].split("</section>")[0]
    assert "will NOT be named" in warnings and "Lapsed Monitoring Centre" in warnings and "Stale Person" in warnings
    assert "Lapsed Monitoring Centre" in notice and "Stale Person" in notice and "signed revision 1" in notice
    assert "Confirming Rights Group" not in notice

    with django_capture_on_commit_callbacks(execute=True):
        services.publish(changed, by=coordinator)
    changed.refresh_from_db()
    publication = changed.publications.get()
    assert publication.is_public
    assert [o["name"] for o in publication.signatories["organisations"]] == ["Confirming Rights Group"]
    assert publication.signatories["individuals"] == [{"name": "Fresh Person", "affiliation": ""}]

    with publication.pdf.open("rb") as stored:
        text = pdftotext(stored.read())
    assert "Confirming Rights Group" in text and "Fresh Person" in text
    assert "Lapsed" not in text and "Stale Person" not in text

    public = page(client, url)
    assert "Confirming Rights Group" in public and "Lapsed Monitoring Centre" not in public
    assert "Stale Person" not in public

    data = client.get(reverse("api_statement", args=[changed.slug])).json()
    assert [o["name"] for o in data["signatories"]["organisations"]] == ["Confirming Rights Group"]
    assert data["signatories"]["individual_count"] == 1
    individuals = client.get(reverse("api_statement_signatories", args=[changed.slug])).json()["results"]
    assert [i["name"] for i in individuals] == ["Fresh Person"]

    title = "Release the hostages now"
    lapsed_page = page(client, reverse("organisation_detail", args=[changed.lapsed.slug]))
    assert title not in lapsed_page
    assert title in page(client, reverse("organisation_detail", args=[changed.confirming.slug]))

    archive = reverse("statement_list")
    assert title in page(client, archive, organisation=changed.confirming.slug)
    # The filter offers only organisations that signed a published text (an unknown one is ignored).
    assert f'value="{changed.confirming.slug}"' in page(client, archive)
    assert f'value="{changed.lapsed.slug}"' not in page(client, archive)
    assert not selectors.search_archive(selectors.ArchiveFilters(organisation=changed.lapsed)).exists()
    api_list = client.get(reverse("api_statements"), {"organisation": changed.confirming.slug}).json()
    assert [s["slug"] for s in api_list["results"]] == [changed.slug]

    client.force_login(coordinator)
    rows = list(csv.reader(io.StringIO(b"".join(client.get(
        reverse("statement_signatures_csv", args=[changed.slug])).streaming_content).decode("utf-8-sig"))))
    names = [row[1] or row[2] for row in rows[1:]]
    assert names == ["Confirming Rights Group", "Fresh Person"]

    told = set(OutboundEmail.objects.filter(kind=EmailOptOut.Kind.STATEMENT_PUBLISHED)
               .values_list("recipient", flat=True))
    assert changed.lapsed_signer.email.lower() not in told and "stale@example.org" not in told
    assert "fresh@example.org" in told

    # Members still see, after publication, who was left out and why.
    staff = page(client, url, changed.staff)
    assert "Signed an earlier text and did not confirm the final one: not named" in staff


def test_the_warnings_are_translated(client, changed, coordinator):
    coordinator.language = "uk"
    coordinator.save()
    services.close_signing(changed, by=coordinator)
    publish_step = page(client, changed.get_absolute_url(), coordinator)
    assert "НЕ будуть названі" in publish_step
    roster = page(client, reverse("statement_roster", args=[changed.slug]), coordinator)
    assert "підписано редакцію 1, не підтверджено" in roster


# Translations of an earlier text --------------------------------------------------------------


@pytest.fixture
def translated(coalition, coordinator, signer, member_org, django_capture_on_commit_callbacks):
    """Open after a Ukrainian translation of revision 1 was made; a coordinator then changed the
    text (revision 3) and an organisation signed it: the translation is of an earlier text."""
    staff = OrganisationRoleFactory(organisation=member_org).user
    statement = make_statement(coalition, by=staff, coordinator=coordinator, title="Protect the journalists",
                               body="Journalists are civilians.")
    first = statement.current_revision
    services.add_translation(statement, by=staff, language="uk", based_on=None, translation_of=first,
                             draft=Draft("Захистіть журналістів", "", "Журналісти є цивільними особами застарілого тексту."))
    services.open_for_signature(statement, by=coordinator, deadline=None)
    new = services.save_revision(statement, by=coordinator, based_on=first,
                                 draft=Draft("Protect the journalists", "", "Journalists are civilians, always."))
    statement.refresh_from_db()
    cosigning.sign_for_organisation(statement, by=signer, organisation=member_org, sha256=new.sha256)
    statement.staff = staff
    return statement


def publish(statement, coordinator, capture):
    services.close_signing(statement, by=coordinator)
    statement.refresh_from_db()
    with capture(execute=True):
        services.publish(statement, by=coordinator)
    statement.refresh_from_db()
    publication = statement.publications.get()
    with publication.pdf.open("rb") as stored:
        return pdftotext(stored.read())


def test_a_translation_of_an_earlier_text_is_shown_nowhere_to_the_public(
        client, translated, coordinator, django_capture_on_commit_callbacks):
    text = publish(translated, coordinator, django_capture_on_commit_callbacks)
    assert "Захистіть журналістів" not in text

    url = translated.get_absolute_url()
    public = page(client, url, lang="uk")
    assert "Захистіть журналістів" not in public and "Journalists are civilians, always." in public
    assert 'class="language-versions"' not in public
    assert client.get(reverse("api_statement", args=[translated.slug])).json()["translations"] == []
    archive = reverse("statement_list")
    assert "Protect the journalists" not in page(client, archive, q="застарілого")
    assert "Protect the journalists" not in page(client, archive, lang="uk")
    assert client.get(reverse("api_statements"), {"lang": "uk"}).json()["count"] == 0

    # Member staff still read it, marked out of date.
    staff = page(client, url, translated.staff, lang="uk")
    assert "Захистіть журналістів" in staff and "out of date" in staff


def test_a_translation_of_the_published_text_is_shown_everywhere(
        client, translated, coordinator, django_capture_on_commit_callbacks):
    services.add_translation(translated, by=coordinator, language="uk",
                             based_on=translated.revisions.filter(language="uk").get(),
                             translation_of=translated.current_revision,
                             draft=Draft("Захистіть журналістів завжди", "", "Журналісти завжди є цивільними."))
    text = publish(translated, coordinator, django_capture_on_commit_callbacks)
    assert "Захистіть журналістів завжди" in text

    public = page(client, translated.get_absolute_url(), lang="uk")
    assert "Захистіть журналістів завжди" in public and 'class="language-versions"' in public
    translations = client.get(reverse("api_statement", args=[translated.slug])).json()["translations"]
    assert [t["title"] for t in translations] == ["Захистіть журналістів завжди"]
    assert "Protect the journalists" in page(client, reverse("statement_list"), lang="uk")


def test_while_open_a_reader_outside_the_coalition_gets_no_translation_of_an_earlier_text(client, translated):
    """A statement open to individuals is public while open: a signed-in reader who is not the
    coalition's member staff reads the original, not the out-of-date translation."""
    translated.allows_individuals = True
    translated.save(update_fields=["allows_individuals"])
    outsider = UserFactory()
    shown = page(client, translated.get_absolute_url(), outsider, lang="uk")
    assert "Захистіть журналістів" not in shown and "Journalists are civilians, always." in shown
