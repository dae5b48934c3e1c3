"""Who is told what: a statement opened for signature, the reminder before its deadline, and the
coordinators' message when signing closes at the deadline."""

from datetime import timedelta
from functools import partial

import pytest
from django.test import TestCase
from django.utils import timezone

from coalition.models import EmailOptOut, OutboundEmail

from statements import notifications, services, tasks
from statements.models import InvitedPartner, Signature, Statement
from statements.services import cosigning

from .factories import MembershipFactory, OrganisationFactory, OrganisationRoleFactory, UserFactory, make_statement

pytestmark = pytest.mark.django_db

# Runs what the block queues after commit (fan-outs, then delivery), as the worker would.
committed = partial(TestCase.captureOnCommitCallbacks, execute=True)


def emails(kind):
    return {e.recipient: e for e in OutboundEmail.objects.filter(kind=kind)}


def sign(statement, user, organisation):
    return cosigning.sign_for_organisation(statement, by=user, organisation=organisation,
                                           sha256=statement.signed_revision.sha256)


@pytest.fixture
def draft(coalition, coordinator):
    return make_statement(coalition, by=coordinator, title="Free the hostages")


def open_it(statement, coordinator, days=10):
    with committed():
        return services.open_for_signature(statement, by=coordinator, deadline=timezone.now() + timedelta(days=days))


def move_deadline(statement, when):
    """As if the statement had been open for a week and its deadline were `when`."""
    Statement.objects.filter(pk=statement.pk).update(deadline=when, opened_at=timezone.now() - timedelta(days=7))
    statement.refresh_from_db()


# Opened for signature ---------------------------------------------------------------------------


def test_opening_tells_every_signer_of_members_and_partners_and_the_coordinators_once_in_their_language(
        draft, coordinator, signer, staff, member_org, coalition, outsider):
    partner = OrganisationFactory()
    partner_signer = OrganisationRoleFactory(organisation=partner, coalition=coalition, can_sign=True,
                                             user__language="uk").user
    InvitedPartner.objects.create(statement=draft, organisation=partner, invited_by=coordinator)
    former = MembershipFactory(coalition=coalition, left=timezone.localdate()).organisation
    OrganisationRoleFactory(organisation=former, can_sign=True)
    open_it(draft, coordinator)

    sent = emails(EmailOptOut.Kind.STATEMENT_OPENED)
    assert set(sent) == {signer.email, partner_signer.email, coordinator.email}
    assert "Free the hostages" in sent[signer.email].subject
    assert f"/statements/{draft.slug}/sign/" in sent[signer.email].body_text
    assert member_org.name in sent[signer.email].body_text
    assert sent[partner_signer.email].language == "uk"
    assert "Відкрито для підписання" in sent[partner_signer.email].subject
    assert "List-Unsubscribe" in sent[signer.email].headers
    assert "List-Unsubscribe" in sent[signer.email].body_text or "/unsubscribe/" in sent[signer.email].body_text


def test_a_signer_who_opted_out_of_openings_is_not_told(draft, coordinator, signer):
    EmailOptOut.objects.create(email=signer.email, kind=EmailOptOut.Kind.STATEMENT_OPENED)
    open_it(draft, coordinator)
    assert signer.email not in emails(EmailOptOut.Kind.STATEMENT_OPENED)


def test_the_opening_message_is_delivered_after_commit(draft, coordinator, signer, mailoutbox,
                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        open_it(draft, coordinator)
    assert {m.to[0] for m in mailoutbox} == {signer.email, coordinator.email}
    message = next(m for m in mailoutbox if m.to == [signer.email])
    assert "Free the hostages" in message.subject and message.alternatives


# Reminder before the deadline ---------------------------------------------------------------------


@pytest.fixture
def statement(draft, coordinator, signer):
    return open_it(draft, coordinator)


def test_the_reminder_goes_to_organisations_without_an_answer_once_however_often_the_task_runs(
        statement, coordinator, signer, member_org, coalition, settings):
    settings.SIGNATURE_REMINDER_DAYS = 2
    signed_org = MembershipFactory(coalition=coalition).organisation
    signed_signer = OrganisationRoleFactory(organisation=signed_org, can_sign=True).user
    sign(statement, signed_signer, signed_org)
    declined_org = MembershipFactory(coalition=coalition).organisation
    declined_signer = OrganisationRoleFactory(organisation=declined_org, can_sign=True).user
    cosigning.decline(statement, by=declined_signer, organisation=declined_org)

    assert tasks.send_signature_reminders() == 0  # ten days before: not yet
    move_deadline(statement, timezone.now() + timedelta(days=1))
    assert tasks.send_signature_reminders() == 1
    assert tasks.send_signature_reminders() == 0

    reminders = OutboundEmail.objects.filter(kind=EmailOptOut.Kind.SIGNATURE_REMINDER)
    assert [r.recipient for r in reminders] == [signer.email]
    reminder = reminders.get()
    assert "Free the hostages" in reminder.subject and member_org.name in reminder.body_text
    assert f"/statements/{statement.slug}/sign/" in reminder.body_text
    assert "List-Unsubscribe" in reminder.headers


def test_an_organisation_reminded_once_is_not_reminded_again_for_a_new_signer(statement, signer, member_org):
    move_deadline(statement, timezone.now() + timedelta(days=1))
    tasks.send_signature_reminders()
    OrganisationRoleFactory(organisation=member_org, can_sign=True)
    tasks.send_signature_reminders()
    assert OutboundEmail.objects.filter(kind=EmailOptOut.Kind.SIGNATURE_REMINDER).count() == 1


def test_a_deadline_moved_a_week_later_brings_one_more_reminder_before_the_new_one(statement, signer, member_org,
                                                                                     settings):
    settings.SIGNATURE_REMINDER_DAYS = 2
    move_deadline(statement, timezone.now() + timedelta(days=1))
    assert tasks.send_signature_reminders() == 1
    week_later = timezone.now() + timedelta(days=7)
    move_deadline(statement, week_later + timedelta(days=1))
    assert notifications.remind_before_deadlines(now=week_later - timedelta(days=2)) == 0  # not yet due
    assert notifications.remind_before_deadlines(now=week_later) == 1
    assert notifications.remind_before_deadlines(now=week_later + timedelta(hours=12)) == 0
    reminders = OutboundEmail.objects.filter(kind=EmailOptOut.Kind.SIGNATURE_REMINDER).order_by("id")
    assert [r.recipient for r in reminders] == [signer.email, signer.email]
    assert statement.reminders.count() == 2


def test_a_deadline_moved_by_an_hour_brings_no_second_reminder_soon_after_the_first(statement, signer, member_org):
    move_deadline(statement, timezone.now() + timedelta(days=1))
    tasks.send_signature_reminders()
    move_deadline(statement, statement.deadline + timedelta(hours=1))
    assert tasks.send_signature_reminders() == 0
    assert OutboundEmail.objects.filter(kind=EmailOptOut.Kind.SIGNATURE_REMINDER).count() == 1


def test_a_reminder_is_in_the_signers_language_and_skips_those_who_opted_out(statement, signer, member_org):
    other = OrganisationRoleFactory(organisation=member_org, can_sign=True, user__language="uk").user
    EmailOptOut.objects.create(email=signer.email, kind=EmailOptOut.Kind.SIGNATURE_REMINDER)
    move_deadline(statement, timezone.now() + timedelta(days=1))
    tasks.send_signature_reminders()
    reminder = OutboundEmail.objects.get(kind=EmailOptOut.Kind.SIGNATURE_REMINDER)
    assert (reminder.recipient, reminder.language) == (other.email, "uk")
    assert "Нагадування" in reminder.subject


def test_no_reminder_for_a_statement_opened_closer_to_its_deadline_than_the_reminder(draft, coordinator, signer):
    open_it(draft, coordinator, days=1)
    assert tasks.send_signature_reminders() == 0


def test_no_reminder_after_the_deadline_or_once_closed(statement, coordinator, signer):
    move_deadline(statement, timezone.now() - timedelta(minutes=1))
    assert tasks.send_signature_reminders() == 0
    move_deadline(statement, timezone.now() + timedelta(days=1))
    services.close_signing(statement, by=coordinator)
    assert tasks.send_signature_reminders() == 0


# The deadline passed --------------------------------------------------------------------------------


def test_closing_at_the_deadline_tells_the_coordinators_the_counts_once(
        statement, coordinator, signer, member_org, coalition):
    declined_org = MembershipFactory(coalition=coalition).organisation
    cosigning.decline(statement, by=OrganisationRoleFactory(organisation=declined_org, can_sign=True).user,
                      organisation=declined_org)
    MembershipFactory(coalition=coalition)
    MembershipFactory(coalition=coalition)
    sign(statement, signer, member_org)
    Signature.objects.create(statement=statement, revision=statement.signed_revision,
                             sha256=statement.signed_revision.sha256, kind=Signature.Kind.INDIVIDUAL,
                             name="Olena", email="olena@example.net", confirmed_at=timezone.now())
    Signature.objects.create(statement=statement, revision=statement.signed_revision,
                             sha256=statement.signed_revision.sha256, kind=Signature.Kind.INDIVIDUAL,
                             name="Unconfirmed", email="u@example.net")
    other_coordinator = UserFactory(language="uk")
    coalition.roles.create(user=other_coordinator)
    move_deadline(statement, timezone.now() - timedelta(minutes=1))

    with committed():
        assert tasks.close_signing_at_deadlines() == 1
        assert tasks.close_signing_at_deadlines() == 0

    sent = emails(EmailOptOut.Kind.DEADLINE_PASSED)
    assert set(sent) == {coordinator.email, other_coordinator.email}
    text = sent[coordinator.email].body_text
    assert "Free the hostages" in sent[coordinator.email].subject
    assert "1 organisation signed." in text and "1 organisation declined." in text
    assert "2 organisations did not answer." in text and "1 individual confirmed a signature." in text
    assert f"/statements/{statement.slug}/roster/" in text
    assert sent[other_coordinator.email].language == "uk"
    assert OutboundEmail.objects.filter(kind=EmailOptOut.Kind.DEADLINE_PASSED).count() == 2


def test_a_coordinator_closing_by_hand_gets_no_deadline_message(statement, coordinator):
    services.close_signing(statement, by=coordinator)
    assert not OutboundEmail.objects.filter(kind=EmailOptOut.Kind.DEADLINE_PASSED).exists()


def test_a_partner_invited_while_open_is_told_and_nobody_is_told_twice(statement, coordinator, signer):
    partner = OrganisationFactory()
    partner_signer = OrganisationRoleFactory(organisation=partner, coalition=statement.coalition, can_sign=True).user
    with committed():
        cosigning.invite_partner(statement, by=coordinator, organisation=partner)
    rows = OutboundEmail.objects.filter(kind=EmailOptOut.Kind.STATEMENT_OPENED)
    assert sorted(r.recipient for r in rows) == sorted([signer.email, coordinator.email, partner_signer.email])
    assert partner.name in rows.get(recipient=partner_signer.email).body_text


def test_beat_runs_the_reminder_sweep(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["signature-reminders"]
    assert entry["task"] == tasks.send_signature_reminders.name and entry["schedule"] > 0


def test_every_new_message_has_an_html_part_with_the_link(statement, coordinator, signer):
    move_deadline(statement, timezone.now() + timedelta(days=1))
    tasks.send_signature_reminders()
    move_deadline(statement, timezone.now() - timedelta(minutes=1))
    with committed():
        tasks.close_signing_at_deadlines()
    for kind, path in [(EmailOptOut.Kind.STATEMENT_OPENED, "/sign/"), (EmailOptOut.Kind.SIGNATURE_REMINDER, "/sign/"),
                       (EmailOptOut.Kind.DEADLINE_PASSED, "/roster/")]:
        row = OutboundEmail.objects.filter(kind=kind).first()
        assert row is not None, kind
        assert f'/statements/{statement.slug}{path}"' in row.body_html and "/unsubscribe/" in row.body_html
