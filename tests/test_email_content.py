"""Emails that get things done (issue 16): every message says what happened, what the reader is
asked to do (or that nothing is), by when with its zone, for which of their organisations, with
the statement's summary in their language and one button; the plain-text part says the same."""

import re
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coalition import outbox
from coalition.models import EmailOptOut, OutboundEmail

from statements import fanouts, notifications, services
from statements.models import FanOut, Signature, Statement
from statements.services import cosigning
from statements.services import Draft

from . import factories
from .factories import MembershipFactory, OrganisationRoleFactory, make_statement

pytestmark = pytest.mark.django_db

committed = partial(TestCase.captureOnCommitCallbacks, execute=True)

DEADLINE = datetime(2036, 12, 7, 18, 0, tzinfo=ZoneInfo("Europe/Kyiv"))


@pytest.fixture
def orgs(coalition):
    """Two member organisations with names of their own in Ukrainian."""
    return [MembershipFactory(coalition=coalition, organisation__name=name,
                              organisation__translations={"uk": {"name": uk}}).organisation
            for name, uk in [("Truth Hounds", "Правозахисна група «Truth Hounds»"),
                             ("Human Rights Center ZMINA", "Центр прав людини ZMINA")]]


@pytest.fixture
def signers(coalition, orgs):
    """An English signer for the first organisation, a Ukrainian one for the second."""
    return [OrganisationRoleFactory(organisation=org, coalition=coalition, can_sign=True, user__language=language).user
            for org, language in zip(orgs, ["en", "uk"])]


@pytest.fixture
def statement(coalition, coordinator):
    statement = make_statement(coalition, by=coordinator, title="Free the hostages",
                               summary="We call for the release of every hostage.", body="The text.")
    services.add_translation(statement, by=coordinator, language="uk", based_on=None,
                             translation_of=statement.current_revision,
                             draft=Draft("Звільніть заручників", "Ми закликаємо звільнити всіх заручників.",
                                         "Текст."))
    statement.refresh_from_db()
    return statement


def open_it(statement, coordinator):
    with committed():
        services.open_for_signature(statement, by=coordinator, deadline=DEADLINE)
    statement.refresh_from_db()
    return statement


def sign_url(statement) -> str:
    return django_settings.SITE_URL + reverse("statement_sign", args=[statement.slug])


def button_to(url: str, html: str) -> bool:
    """The table-built button: a coloured cell holding a link with its own inline style, and the
    same link written out (a statement's page may open on the reader's language: `?lang=`)."""
    link = rf'href="{re.escape(url)}(?:\?lang=[a-z]+)?"'
    return bool(re.search(rf'<td[^>]*bgcolor="#[0-9a-fA-F]{{6}}"[^>]*><a {link} style="[^"]+">', html)) \
        and len(re.findall(link, html)) >= 2


def rows(kind):
    return {row.recipient: row for row in OutboundEmail.objects.filter(kind=kind)}


# Open for signature ------------------------------------------------------------------------------


def test_the_opened_email_names_the_deadline_with_its_zone_the_readers_organisations_and_has_a_button(
        statement, coordinator, signers, orgs):
    open_it(statement, coordinator)
    sent = rows(EmailOptOut.Kind.STATEMENT_OPENED)
    english, ukrainian = sent[signers[0].email], sent[signers[1].email]
    for part in (english.body_text, english.body_html):
        assert "7 December 2036, 18:00 Kyiv time" in part
        assert "Truth Hounds" in part and "ZMINA" not in part  # not another organisation's
        assert "We call for the release of every hostage." in part
        assert "What you are asked to do:" in part and "sign it, or decline" in part
    for part in (ukrainian.body_text, ukrainian.body_html):
        assert "7 грудня 2036, 18:00 за київським часом" in part
        assert "Центр прав людини ZMINA" in part and "Truth Hounds" not in part
        assert "Ми закликаємо звільнити всіх заручників." in part  # the summary in their language
    for row in (english, ukrainian):
        assert button_to(sign_url(statement), row.body_html)
        assert sign_url(statement) in row.body_text
    assert '<html lang="uk">' in ukrainian.body_html


def test_the_opened_email_to_a_coordinator_asks_nothing_to_sign_and_links_the_roster(
        statement, coordinator, signers):
    open_it(statement, coordinator)
    row = rows(EmailOptOut.Kind.STATEMENT_OPENED)[coordinator.email]
    roster_url = django_settings.SITE_URL + reverse("statement_roster", args=[statement.slug])
    assert "Nothing to sign" in row.body_text and roster_url in row.body_text
    assert button_to(roster_url, row.body_html) and "Kyiv time" in row.body_html


def test_the_opened_email_reads_well_at_360_px(statement, coordinator, signers):
    open_it(statement, coordinator)
    html = rows(EmailOptOut.Kind.STATEMENT_OPENED)[signers[0].email].body_html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "max-width: 600px" in html and "font-size: 17px" in html
    assert "Test Coalition" in html.split("<td", 3)[-1]  # the coalition's name heads the message
    assert "/unsubscribe/" in html


def test_a_new_deadline_names_only_the_organisations_that_have_not_answered(
        statement, coordinator, coalition, orgs):
    both = OrganisationRoleFactory(organisation=orgs[0], coalition=coalition, can_sign=True).user
    OrganisationRoleFactory(organisation=orgs[1], coalition=coalition, can_sign=True, user=both)
    open_it(statement, coordinator)
    cosigning.sign_for_organisation(statement, by=both, organisation=orgs[0], sha256=statement.signed_revision.sha256)
    with committed():
        services.move_deadline(statement, by=coordinator, deadline=DEADLINE + timedelta(days=3))
    row = rows(EmailOptOut.Kind.STATEMENT_OPENED)
    moved = OutboundEmail.objects.get(recipient=both.email, dedupe_key__startswith="deadline-moved:")
    for part in (moved.body_text, moved.body_html):
        assert "10 December 2036, 18:00 Kyiv time" in part and "7 December 2036, 18:00 Kyiv time" in part
        assert "Human Rights Center ZMINA" in part and "Truth Hounds" not in part
    assert button_to(sign_url(statement), moved.body_html)
    assert row  # the opening message was written too


# Reminders and a changed text --------------------------------------------------------------------


def test_the_reminder_names_the_deadline_with_its_zone_the_organisation_and_has_a_button(
        statement, coordinator, signers, orgs):
    open_it(statement, coordinator)
    with committed():
        notifications.signature_reminders(Statement.objects.get(pk=statement.pk))
    sent = rows(EmailOptOut.Kind.SIGNATURE_REMINDER)
    english, ukrainian = sent[signers[0].email], sent[signers[1].email]
    for part in (english.body_text, english.body_html):
        assert "7 December 2036, 18:00 Kyiv time" in part and "Truth Hounds" in part and "ZMINA" not in part
        assert "We call for the release of every hostage." in part
    for part in (ukrainian.body_text, ukrainian.body_html):
        assert "за київським часом" in part and "Центр прав людини ZMINA" in part and "Truth Hounds" not in part
    for row in (english, ukrainian):
        assert button_to(sign_url(statement), row.body_html) and sign_url(statement) in row.body_text


def test_the_text_changed_email_names_the_deadline_the_organisation_and_has_a_button(
        statement, coordinator, signers, orgs):
    open_it(statement, coordinator)
    for signer, org in zip(signers, orgs):
        cosigning.sign_for_organisation(statement, by=signer, organisation=org, sha256=statement.signed_revision.sha256)
    with committed():
        services.save_revision(statement, by=coordinator, based_on=statement.signed_revision,
                               draft=Draft("Free the hostages", "We call for their release now.", "A stronger text."))
    sent = rows(EmailOptOut.Kind.TEXT_CHANGED)
    english, ukrainian = sent[signers[0].email], sent[signers[1].email]
    for part in (english.body_text, english.body_html):
        assert "7 December 2036, 18:00 Kyiv time" in part and "Truth Hounds" in part and "ZMINA" not in part
        assert "confirm the signature of Truth Hounds" in part
    for part in (ukrainian.body_text, ukrainian.body_html):
        assert "за київським часом" in part and "Центр прав людини ZMINA" in part and "Truth Hounds" not in part
    for row in (english, ukrainian):
        assert button_to(sign_url(statement), row.body_html) and sign_url(statement) in row.body_text


# Every kind -------------------------------------------------------------------------------------


def contexts(statement, coordinator, org):
    """A context for each email template, as notifications.py gives it, and the link of its one
    action (None: the message says there is nothing to do)."""
    revision = statement.signed_revision
    url = partial(lambda path: django_settings.SITE_URL + path)
    sign, roster = url(reverse("statement_sign", args=[statement.slug])), url(f"/statements/{statement.slug}/roster/")
    signature = Signature(statement=statement, revision=revision, kind=Signature.Kind.INDIVIDUAL, name="Ann",
                          email="ann@example.net", token_expires_at=DEADLINE)
    invitation = factories.InvitationFactory(coalition=statement.coalition, organisation=org, expires_at=DEADLINE)
    publication = SimpleNamespace(number=1, correction_note="")
    report = SimpleNamespace(broken_event_id=3, count=2, findings=[], key="k")
    common = {"statement": statement, "revision": revision}
    signing = {**common, "sign_url": sign, "roster_url": roster, "organisations": [org.name], "coordinator": False}
    return {
        "statement_opened": (signing, sign),
        "statement_reopened": (signing, sign),
        "deadline_moved": ({**signing, "previous_deadline": DEADLINE}, sign),
        "signature_reminder": ({**common, "organisation": org, "sign_url": sign}, sign),
        "signed_text_changed": ({**common, "signature": signature, "confirm_url": sign}, sign),
        "deadline_passed": ({**common, "roster_url": roster, "signed": 1, "declined": 0, "no_answer": 2,
                             "individuals": 0}, roster),
        "publication_released": ({**common, "publication": publication, "signed": True, "pdf_url": url("/p.pdf"),
                                  "statement_url": url(statement.get_absolute_url())},
                                 url(statement.get_absolute_url())),
        "signature_confirmation": ({**common, "signature": signature, "name": "Ann", "confirm_url": url("/c/"),
                                    "erase_url": url("/privacy/erase/")}, url("/c/")),
        "signature_already_signed": ({"statement": statement, "signature": signature, "name": "Ann",
                                      "statement_url": url(statement.get_absolute_url())},
                                     url(statement.get_absolute_url())),
        "invitation": ({"invitation": invitation, "accept_url": url("/accept/")}, url("/accept/")),
        "signing_granted": ({"person": coordinator, "organisation": org, "coalition": statement.coalition,
                             "dashboard_url": url("/dashboard/")}, url("/dashboard/")),
        "signing_withdrawn": ({"person": coordinator, "organisation": org, "coalition": statement.coalition}, None),
        "staff_removed": ({"person": coordinator, "organisation": org, "coalition": statement.coalition}, None),
        "erasure_link": ({"erase_url": url("/erase/t/"), "count": 1, "hours": 24}, url("/erase/t/")),
        "subscription_confirmation": ({"confirm_url": url("/subscribe/t/"), "hours": 72}, url("/subscribe/t/")),
        "audit_check_failed": ({"report": report, "transparency_url": url("/transparency/")}, url("/transparency/")),
    }


def test_every_email_kind_has_one_button_or_says_there_is_nothing_to_do_in_both_parts(
        statement, coordinator, orgs):
    open_it(statement, coordinator)
    cases = contexts(statement, coordinator, orgs[0])
    on_disk = {p.name.removesuffix("_message.html") for p in (Path(django_settings.BASE_DIR) / "templates/email")
               .glob("*_message.html")}
    assert on_disk == set(cases), "a new email template: give it a context and its action here"
    for language, asked, nothing in [("en", "What you are asked to do:", "Nothing"),
                                     ("uk", "Що вас просять зробити:", "Нічого")]:
        for template, (context, action) in cases.items():
            subject, text, html = outbox.render_message(template, context, language)
            assert subject and asked in text and asked in html, (template, language)
            if action is None:
                assert f"{asked} {nothing}" in text and "bgcolor=" not in html, template
            else:
                assert button_to(action, html) and html.count("bgcolor=") == 1, template
                assert action in text, template


# Cost of a fan-out -----------------------------------------------------------------------------


def test_the_opened_fan_out_asks_no_query_per_recipient(coalition, coordinator, statement, orgs):
    def queries_for(people_per_org: int) -> int:
        OutboundEmail.objects.all().delete()
        for org in orgs:
            for language in ["en", "uk"] * people_per_org:
                OrganisationRoleFactory(organisation=org, coalition=coalition, can_sign=True, user__language=language)
        fan_out = fanouts.request(FanOut.Event.STATEMENT_OPENED, statement)
        with CaptureQueriesContext(connection) as queries:
            written = fanouts.run(fan_out.pk, notifications.FAN_OUT_WRITERS)
        assert written == OutboundEmail.objects.count() and written > 2 * people_per_org
        return len(queries)

    Statement.objects.filter(pk=statement.pk).update(status=Statement.Status.OPEN, deadline=DEADLINE,
                                                     signed_revision=statement.current_revision)
    statement.refresh_from_db()
    assert queries_for(1) == queries_for(5)
