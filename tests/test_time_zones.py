"""Every time shown says its zone (issue 15, part D): Kyiv time always, and the reader's own zone
too when they chose one in their account; a time typed into a form is read in the zone the form
states; emails and the PDF say the zone as well."""

import datetime
import re
import subprocess
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from coalition import time_zones
from coalition.models import OutboundEmail
from statements import pdf, services

from .factories import confirmation, make_statement

pytestmark = pytest.mark.django_db

KYIV = zoneinfo.ZoneInfo("Europe/Kyiv")
WARSAW = zoneinfo.ZoneInfo("Europe/Warsaw")
# 7 December 2026, 18:00 in Kyiv (EET, UTC+2): 16:00 UTC, 17:00 in Warsaw (CET, UTC+1).
DEADLINE = datetime.datetime(2026, 12, 7, 18, 0, tzinfo=KYIV)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def open_statement(coalition, coordinator, signer, member_org):
    statement = make_statement(coalition, by=coordinator, status="open", title="Stop the shelling")
    type(statement).objects.filter(pk=statement.pk).update(deadline=DEADLINE)
    statement.refresh_from_db()
    return statement


def page(client, statement, language: str) -> str:
    client.cookies["django_language"] = language
    return " ".join(client.get(statement.get_absolute_url()).content.decode().split())


# Showing a time ---------------------------------------------------------------------------------


def test_the_deadline_says_kyiv_time_in_english_and_in_ukrainian(client, open_statement, signer):
    client.force_login(signer)
    assert "7 December 2026, 18:00 Kyiv time" in page(client, open_statement, "en")
    assert "7 грудня 2026, 18:00 за київським часом" in page(client, open_statement, "uk")


def test_a_reader_who_chose_warsaw_sees_kyiv_time_and_theirs(client, open_statement, signer):
    signer.time_zone = "Europe/Warsaw"
    signer.save()
    client.force_login(signer)
    assert "7 December 2026, 18:00 Kyiv time (17:00 your time, Europe/Warsaw)" in page(client, open_statement, "en")
    assert ("7 грудня 2026, 18:00 за київським часом (17:00 за вашим часом, Europe/Warsaw)"
            in page(client, open_statement, "uk"))


def test_a_reader_whose_day_differs_gets_their_date_too():
    moment = datetime.datetime(2026, 12, 7, 4, 0, tzinfo=KYIV)
    with translation.override("en"), timezone.override("America/New_York"):
        assert time_zones.format_moment(moment) == (
            "7 December 2026, 04:00 Kyiv time (6 December 2026, 21:00 your time, America/New York)")


def test_the_site_zone_alone_when_nobody_chose_another():
    with translation.override("uk"):
        assert time_zones.format_moment(DEADLINE) == "7 грудня 2026, 18:00 за київським часом"
        assert time_zones.format_moment(DEADLINE.date()) == "7 грудня 2026"
        assert time_zones.format_moment(None) == ""


# Typing a time ----------------------------------------------------------------------------------


def test_the_deadline_field_says_its_zone(client, open_statement, coordinator):
    client.force_login(coordinator)
    assert "New signing deadline (Kyiv time)" in page(client, open_statement, "en")
    text = page(client, open_statement, "uk")
    assert "(за київським часом)" in text and "Вкажіть час за київським часом" in text


def test_a_deadline_typed_in_warsaw_is_read_in_warsaw(client, open_statement, coordinator):
    coordinator.time_zone = "Europe/Warsaw"
    coordinator.save()
    client.force_login(coordinator)
    form = client.get(open_statement.get_absolute_url()).content.decode()
    assert "New signing deadline (your time, Europe/Warsaw)" in form
    response = client.post(reverse("statement_deadline", args=[open_statement.slug]),
                           {"deadline": "2027-01-15T18:00"})
    assert response.status_code == 302, response.content.decode()[:2000]
    open_statement.refresh_from_db()
    # 18:00 in Warsaw (CET, UTC+1) is 17:00 UTC and 19:00 in Kyiv.
    assert open_statement.deadline == datetime.datetime(2027, 1, 15, 17, 0, tzinfo=datetime.UTC)
    shown = page(client, open_statement, "en")
    assert "15 January 2027, 19:00 Kyiv time (18:00 your time, Europe/Warsaw)" in shown


def test_a_deadline_typed_without_a_zone_of_ones_own_is_kyiv_time(client, coalition, coordinator, signer, member_org):
    statement = make_statement(coalition, by=coordinator, title="Stop the shelling")
    client.force_login(coordinator)
    response = client.post(reverse("statement_open", args=[statement.slug]),
                           {"deadline": "2027-07-15T18:00", **confirmation(statement, "open")})
    assert response.status_code == 302, response.content.decode()[:2000]
    statement.refresh_from_db()
    # 18:00 in Kyiv in July (EEST, UTC+3) is 15:00 UTC.
    assert statement.deadline == datetime.datetime(2027, 7, 15, 15, 0, tzinfo=datetime.UTC)


# Choosing a zone ------------------------------------------------------------------------------


def test_a_person_chooses_their_time_zone_in_their_account(client, signer):
    client.force_login(signer)
    url = reverse("account_time_zone")
    form = client.get(url).content.decode()
    assert '<optgroup label="Europe">' in form and 'value="Europe/Warsaw"' in form
    assert "Kyiv time (site default)" in form
    response = client.post(url, {"time_zone": "Europe/Warsaw"}, follow=True)
    signer.refresh_from_db()
    assert signer.time_zone == "Europe/Warsaw"
    assert "your time zone, Europe/Warsaw" in response.content.decode()
    client.post(url, {"time_zone": ""})
    signer.refresh_from_db()
    assert signer.time_zone == ""


def test_an_unknown_time_zone_is_refused_with_a_message(client, signer):
    client.force_login(signer)
    client.cookies["django_language"] = "uk"
    response = client.post(reverse("account_time_zone"), {"time_zone": "Mars/Olympus_Mons"})
    assert response.status_code == 400
    assert "«Mars/Olympus_Mons» — невідомий часовий пояс" in response.content.decode()
    signer.refresh_from_db()
    assert signer.time_zone == ""


def test_the_time_zone_page_needs_a_sign_in(client):
    assert client.get(reverse("account_time_zone")).status_code == 302


# Emails and the PDF -----------------------------------------------------------------------------


def test_emails_state_the_deadline_in_kyiv_time_and_in_the_recipients_zone(open_statement, coordinator, signer):
    signer.time_zone, signer.language = "Europe/Warsaw", "uk"
    signer.save()
    services.move_deadline(open_statement, by=coordinator, deadline=datetime.datetime(2027, 1, 15, 18, 0, tzinfo=KYIV))
    messages = OutboundEmail.objects.filter(dedupe_key__startswith=f"deadline-moved:{open_statement.pk}:")
    theirs = messages.get(recipient=signer.email)
    assert "15 січня 2027, 18:00 за київським часом (17:00 за вашим часом, Europe/Warsaw)" in theirs.body_text
    assert "за київським часом" in theirs.body_html
    mine = " ".join(messages.get(recipient=coordinator.email).body_text.split())
    assert "15 January 2027, 18:00 Kyiv time." in mine


def test_an_email_written_in_a_warsaw_readers_request_is_in_kyiv_time_for_others(client, open_statement,
                                                                                  coordinator, signer):
    coordinator.time_zone = "Europe/Warsaw"
    coordinator.save()
    client.force_login(coordinator)
    client.post(reverse("statement_deadline", args=[open_statement.slug]), {"deadline": "2027-01-15T18:00"})
    body = OutboundEmail.objects.get(dedupe_key__startswith=f"deadline-moved:{open_statement.pk}:",
                                     recipient=signer.email).body_text
    assert "15 January 2027, 19:00 Kyiv time" in body and "your time" not in body


def test_the_pdf_stamp_says_kyiv_time_in_the_pdfs_language():
    from .helpers import make_document

    signed = pdf.sign_pdf(pdf.render_pdf(make_document()), signer_name="Коаліція", language="uk")
    text = subprocess.run(["pdftotext", "-", "-"], input=signed, capture_output=True, check=True).stdout.decode()
    stamp = re.search(r"\d{1,2} \w+ \d{4}, \d{2}:\d{2}\s+за київським часом", text)
    assert stamp, text[-800:]
    assert "EET" not in text and "UTC" not in text


def test_the_signatures_csv_is_in_kyiv_time_whoever_downloads_it(client, open_statement, coordinator, signer,
                                                                   member_org):
    from statements.services import cosigning

    cosigning.sign_for_organisation(open_statement, by=signer, organisation=member_org,
                                    sha256=open_statement.signed_revision.sha256)
    coordinator.time_zone = "America/New_York"
    coordinator.save()
    client.force_login(coordinator)
    response = client.get(reverse("statement_signatures_csv", args=[open_statement.slug]))
    body = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
    offset = timezone.localtime(timezone.now(), KYIV).strftime("%z")
    assert f"{offset[:3]}:{offset[3:]}," in body and "-05:00" not in body and "-04:00" not in body


def test_a_time_that_does_not_exist_in_the_zone_is_refused_with_a_message(client, open_statement, coordinator):
    # Clocks in Kyiv go from 03:00 to 04:00 on 28 March 2027: 03:30 never happens there.
    client.force_login(coordinator)
    response = client.post(reverse("statement_deadline", args=[open_statement.slug]), {"deadline": "2027-03-28T03:30"})
    assert response.status_code == 400
    assert "Europe/Kyiv" in response.content.decode()
    open_statement.refresh_from_db()
    assert open_statement.deadline == DEADLINE
