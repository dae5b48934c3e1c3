"""Coordinators remind, from the roster, the organisations that have neither signed nor declined:
everyone who may sign for them gets an email in their language with the coordinator's note, at most
once per organisation in SIGNATURE_MANUAL_REMINDER_HOURS, and the roster says when each was last
reminded."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coalition.models import AuditEvent, EmailOptOut, Organisation, OrganisationRole, OutboundEmail

from statements import tasks
from statements.models import Reminder, Statement
from statements.services import cosigning

from .factories import CoordinatorFactory, MembershipFactory, OrganisationRoleFactory, UserFactory, make_statement

pytestmark = pytest.mark.django_db

NOTE = 'Please answer by Friday <script>alert("x")</script> & thanks.\nSecond line.'


@pytest.fixture
def statement(coalition, coordinator):
    return make_statement(coalition, by=coordinator, status="open", title="Free the hostages")


@pytest.fixture
def signed_in(client, coordinator):
    client.force_login(coordinator)
    return client


def reminders():
    return OutboundEmail.objects.filter(kind=EmailOptOut.Kind.SIGNATURE_REMINDER)


def written() -> tuple[int, int]:
    """Reminder emails and reminder audit events: what a refused reminder must not add to."""
    return reminders().count(), AuditEvent.objects.filter(action="statement.reminded").count()


def remind(client, statement, organisation=None, note="", **kwargs):
    url = (reverse("statement_remind_organisation", args=[statement.slug, organisation.slug]) if organisation
           else reverse("statement_remind", args=[statement.slug]))
    return client.post(url, {"note": note}, follow=True, **kwargs)


def page_messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def later(monkeypatch, hours: float):
    """As if `hours` had passed since now."""
    moment = timezone.now() + timedelta(hours=hours)
    monkeypatch.setattr(timezone, "now", lambda: moment)


def test_every_signer_of_each_organisation_without_an_answer_is_reminded_in_their_language_with_the_note(
        signed_in, statement, coalition, coordinator, member_org, signer, mailoutbox,
        django_capture_on_commit_callbacks):
    colleague = OrganisationRoleFactory(organisation=member_org, can_sign=True, user__language="uk").user
    OrganisationRoleFactory(organisation=member_org, can_sign=False)  # staff who may not sign: not asked
    signed_org = MembershipFactory(coalition=coalition).organisation
    signed_signer = OrganisationRoleFactory(organisation=signed_org, can_sign=True).user
    cosigning.sign_for_organisation(statement, by=signed_signer, organisation=signed_org,
                                    sha256=statement.signed_revision.sha256)
    declined_org = MembershipFactory(coalition=coalition).organisation
    declined_signer = OrganisationRoleFactory(organisation=declined_org, can_sign=True).user
    cosigning.decline(statement, by=declined_signer, organisation=declined_org)
    MembershipFactory(coalition=coalition, organisation__name="Nobody Signs Here")

    with django_capture_on_commit_callbacks(execute=True):
        response = remind(signed_in, statement, note=NOTE)

    sent = {e.recipient: e for e in reminders()}
    assert set(sent) == {signer.email, colleague.email}
    english, ukrainian = sent[signer.email], sent[colleague.email]
    assert "Free the hostages" in english.subject and member_org.name in english.body_text
    assert f"/statements/{statement.slug}/sign/" in english.body_text
    assert NOTE in english.body_text  # plain text reads as typed
    assert coordinator.get_full_name() in english.body_text
    assert '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; thanks.<br>Second line.' in english.body_html
    assert "<script>" not in english.body_html
    assert (ukrainian.language, "Нагадування" in ukrainian.subject) == ("uk", True)
    assert "координатор коаліції Test Coalition, пише:" in ukrainian.body_text and NOTE in ukrainian.body_text
    assert {m.to[0] for m in mailoutbox if "Free the hostages" in m.subject and "Reminder" in m.subject} == {
        signer.email}

    said = page_messages(response)
    assert f"{member_org.name} was reminded." in said
    assert "1 organisation without an answer has nobody who may sign for it: invite a signer" in said
    event = AuditEvent.objects.get(action="statement.reminded")
    assert event.actor == coordinator
    assert event.data["organisations"] == [member_org.name]
    assert (event.data["count"], event.data["messages"], event.data["note"]) == (1, 2, NOTE)
    events = signed_in.get(reverse("statement_events", args=[statement.slug])).content.decode()
    assert f"reminded the organisations without an answer: {member_org.name}" in events


def test_a_statement_without_a_deadline_is_reminded_without_one(signed_in, statement, signer):
    remind(signed_in, statement)
    email = reminders().get()
    assert statement.deadline is None
    assert "has not yet signed or declined" in email.body_text and "Signing closes" not in email.body_text


def test_a_signer_who_turned_reminders_off_is_not_reminded(signed_in, statement, member_org, signer):
    other = OrganisationRoleFactory(organisation=member_org, can_sign=True).user
    EmailOptOut.objects.create(email=signer.email, kind=EmailOptOut.Kind.SIGNATURE_REMINDER)
    remind(signed_in, statement)
    assert [e.recipient for e in reminders()] == [other.email]


def test_a_second_reminder_inside_the_period_writes_nothing_and_the_page_says_when_the_next_is_possible(
        signed_in, statement, coalition, member_org, signer, monkeypatch, settings):
    settings.SIGNATURE_MANUAL_REMINDER_HOURS = 12
    second_org = MembershipFactory(coalition=coalition).organisation
    OrganisationRoleFactory(organisation=second_org, can_sign=True)
    remind(signed_in, statement, organisation=member_org)
    first = reminders().get().created_at
    before = written()

    response = remind(signed_in, statement)  # everyone: the one reminded a moment ago is skipped
    said = page_messages(response)
    assert f"{second_org.name} was reminded." in said
    next_possible = timezone.localtime(first + timedelta(hours=12))
    assert ("1 organisation was skipped: a coordinator reminded it less than 12 hours ago. "
            f"The next reminder is possible from {next_possible:%-d %B %Y, %H:%M} Kyiv time.") in said
    assert written() == (before[0] + 1, before[1] + 1)
    assert reminders().filter(recipient=signer.email).count() == 1

    before = written()
    response = remind(signed_in, statement)
    assert "2 organisations were skipped" in page_messages(response)
    assert written() == before

    later(monkeypatch, 11)  # a sliding period: a new clock period does not let a repeat through
    assert "2 organisations were skipped" in page_messages(remind(signed_in, statement))
    assert written() == before

    later(monkeypatch, 13)
    assert "2 organisations were reminded." in page_messages(remind(signed_in, statement))
    assert reminders().filter(recipient=signer.email).count() == 2
    assert written()[1] == before[1] + 1


def test_the_remind_button_of_one_organisation_reminds_only_that_one(
        signed_in, statement, coalition, member_org, signer):
    other_org = MembershipFactory(coalition=coalition, organisation__name="Other Org").organisation
    OrganisationRoleFactory(organisation=other_org, can_sign=True)
    response = remind(signed_in, statement, organisation=member_org, note="Only you.")
    assert [e.recipient for e in reminders()] == [signer.email]
    assert "Only you." in reminders().get().body_text
    assert AuditEvent.objects.get(action="statement.reminded").data["organisations"] == [member_org.name]
    page = response.content.decode()
    assert reverse("statement_remind_organisation", args=[statement.slug, other_org.slug]) in page
    assert reverse("statement_remind_organisation", args=[statement.slug, member_org.slug]) not in page
    assert "again from" in page


def test_the_roster_shows_when_each_organisation_was_last_reminded_also_by_the_automatic_reminder(
        signed_in, statement, coalition, member_org, signer, settings):
    other_org = MembershipFactory(coalition=coalition, organisation__name="Other Org").organisation
    OrganisationRoleFactory(organisation=other_org, can_sign=True)
    page = signed_in.get(reverse("statement_roster", args=[statement.slug])).content.decode()
    assert "last reminded" not in page and "Remind the organisations that have not answered" in page

    settings.SIGNATURE_REMINDER_DAYS = 2
    Statement.objects.filter(pk=statement.pk).update(deadline=timezone.now() + timedelta(days=1),
                                                     opened_at=timezone.now() - timedelta(days=7))
    assert tasks.send_signature_reminders() == 2
    page = signed_in.get(reverse("statement_roster", args=[statement.slug])).content.decode()
    assert page.count("last reminded") == 2
    reminded_at = timezone.localtime(Reminder.objects.get(organisation=member_org).queued_at)
    assert f'<time datetime="{reminded_at.isoformat()}">' in page
    # The automatic reminder does not hold coordinators back.
    assert reverse("statement_remind_organisation", args=[statement.slug, member_org.slug]) in page


def test_nothing_to_remind_on_a_closed_statement_and_the_roster_offers_no_reminder(
        signed_in, coalition, coordinator, signer):
    closed = make_statement(coalition, by=coordinator, status="closed")
    page = signed_in.get(reverse("statement_roster", args=[closed.slug])).content.decode()
    assert "Remind the organisations" not in page and 'form="remind-form"' not in page


@pytest.mark.parametrize("situation, message", [
    ("draft", "Reminders can be sent only while the statement is open for signature."),
    ("closed", "Reminders can be sent only while the statement is open for signature."),
    ("deadline passed", "Reminders can be sent only while the statement is open for signature."),
    ("everyone answered", "Every organisation has answered: there is nobody left to remind."),
    ("nobody may sign", "Nobody was reminded: nobody may sign for any of the organisations without an answer."),
    ("everyone opted out", "Nobody left to remind: nobody who may sign"),
])
def test_a_reminder_is_refused_with_a_clear_message_and_nothing_written(
        signed_in, coalition, coordinator, member_org, signer, situation, message):
    status = situation if situation in ("draft", "closed") else "open"
    statement = make_statement(coalition, by=coordinator, status=status)
    if situation == "deadline passed":
        Statement.objects.filter(pk=statement.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    elif situation == "everyone answered":
        cosigning.decline(statement, by=signer, organisation=member_org)
    elif situation == "nobody may sign":
        OrganisationRole.objects.filter(user=signer).update(can_sign=False)
    elif situation == "everyone opted out":
        EmailOptOut.objects.create(email=signer.email, kind=EmailOptOut.Kind.SIGNATURE_REMINDER)
    before = written()
    response = remind(signed_in, statement, note="Please.")
    assert response.status_code == 200 and response.redirect_chain[-1][0].endswith("/roster/?reminded=all#remind-form")
    assert message in page_messages(response)
    assert written() == before


@pytest.mark.parametrize("answer, message", [
    ("signed", "has already answered: there is nothing to remind it of."),
    ("declined", "has already answered: there is nothing to remind it of."),
    ("outside", "is not asked to sign this statement."),
    ("no signer", "can be reminded: there is nobody yet, or they turned reminders off."),
])
def test_reminding_one_organisation_that_cannot_be_reminded_is_refused(
        signed_in, statement, member_org, signer, answer, message):
    organisation = member_org
    if answer == "signed":
        cosigning.sign_for_organisation(statement, by=signer, organisation=member_org,
                                        sha256=statement.signed_revision.sha256)
    elif answer == "declined":
        cosigning.decline(statement, by=signer, organisation=member_org)
    elif answer == "outside":
        organisation = OrganisationRoleFactory(can_sign=True).organisation
    else:
        OrganisationRole.objects.filter(user=signer).update(can_sign=False)
    before = written()
    response = remind(signed_in, statement, organisation=organisation)
    assert f"{organisation.name} {message}" in page_messages(response)
    assert written() == before


def test_a_note_too_long_shows_the_roster_again_with_the_note_as_typed(signed_in, statement, signer):
    note = "Please sign. " * 100
    response = signed_in.post(reverse("statement_remind", args=[statement.slug]), {"note": note})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Ensure this value has at most 1000 characters" in page and note.strip() in page
    assert written() == (0, 0)


def test_a_note_too_long_is_refused_by_the_service_too(statement, coordinator, signer):
    with pytest.raises(cosigning.ValidationError):
        cosigning.remind(statement, by=coordinator, note="x" * 1001)
    assert written() == (0, 0)


@pytest.mark.parametrize("who, status", [("staff", 403), ("signer", 403), ("other coordinator", 404)])
def test_only_the_coalitions_coordinators_remind(client, statement, member_org, signer, staff, who, status):
    person = {"staff": staff, "signer": signer,
              "other coordinator": CoordinatorFactory(coalition=MembershipFactory().coalition).user}[who]
    client.force_login(person)
    for url in (reverse("statement_remind", args=[statement.slug]),
                reverse("statement_remind_organisation", args=[statement.slug, member_org.slug])):
        assert client.post(url, {"note": "Sign!"}).status_code == status
    assert written() == (0, 0)


def test_a_reminder_is_not_sent_by_get(signed_in, statement, member_org, signer):
    assert signed_in.get(reverse("statement_remind", args=[statement.slug])).status_code == 405
    assert signed_in.get(reverse("statement_remind_organisation",
                                 args=[statement.slug, member_org.slug])).status_code == 405
    assert written() == (0, 0)


def test_an_unknown_organisation_is_not_found(signed_in, statement, signer):
    response = signed_in.post(reverse("statement_remind_organisation", args=[statement.slug, "no-such-org"]))
    assert response.status_code == 404
    assert written() == (0, 0)


def _open_with_reminded_organisations(coordinator, count: int, title: str) -> Statement:
    """A statement of a coalition of its own with `count` member organisations, each reminded."""
    coalition = CoordinatorFactory(user=coordinator, coalition__name=f"{title} coalition").coalition
    statement = make_statement(coalition, by=coordinator, status="open", title=title)
    for n in range(count):
        organisation = Organisation.objects.create(name=f"{title} organisation {n}", slug=f"{statement.slug}-org-{n}")
        MembershipFactory(coalition=coalition, organisation=organisation)
        OrganisationRole.objects.create(user=UserFactory(), organisation=organisation, coalition=coalition, can_sign=True)
    cosigning.remind(statement, by=coordinator)
    return statement


def test_the_roster_asks_the_same_number_of_queries_however_many_organisations_were_reminded(
        signed_in, coordinator):
    few = _open_with_reminded_organisations(coordinator, 2, "Few")
    many = _open_with_reminded_organisations(coordinator, 25, "Many")
    counts = []
    for statement, reminded in ((few, 2), (many, 25)):
        with CaptureQueriesContext(connection) as queries:
            response = signed_in.get(reverse("statement_roster", args=[statement.slug]))
        assert response.status_code == 200
        assert response.content.decode().count("again from") == reminded
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_throttling_reads_the_reminders_sent_not_the_outboxs_keys(signed_in, statement, member_org, signer, settings):
    """Reminders are recorded as they are queued; how the outbox keys their emails is its own
    business: keys written in another format hold back neither reminder."""
    settings.SIGNATURE_REMINDER_DAYS = 2
    Statement.objects.filter(pk=statement.pk).update(deadline=timezone.now() + timedelta(days=1),
                                                     opened_at=timezone.now() - timedelta(days=7))
    assert tasks.send_signature_reminders() == 1
    remind(signed_in, statement)
    assert [r.kind for r in Reminder.objects.filter(statement=statement, organisation=member_org)] == [
        Reminder.Kind.AUTOMATIC, Reminder.Kind.COORDINATOR]
    for email in reminders():
        OutboundEmail.objects.filter(pk=email.pk).update(dedupe_key=f"reminder/{email.pk}")
    before = written()

    assert tasks.send_signature_reminders() == 0
    assert "1 organisation was skipped" in page_messages(remind(signed_in, statement))
    assert written() == before


def test_an_organisation_nobody_could_be_reminded_for_is_reminded_once_someone_can_be(statement, member_org, signer):
    EmailOptOut.objects.create(email=signer.email, kind=EmailOptOut.Kind.SIGNATURE_REMINDER)
    Statement.objects.filter(pk=statement.pk).update(deadline=timezone.now() + timedelta(days=1),
                                                     opened_at=timezone.now() - timedelta(days=7))
    assert tasks.send_signature_reminders() == 0
    assert not Reminder.objects.exists()

    colleague = OrganisationRoleFactory(organisation=member_org, can_sign=True).user
    assert tasks.send_signature_reminders() == 1
    assert [e.recipient for e in reminders()] == [colleague.email]
    assert tasks.send_signature_reminders() == 0


def test_the_admin_lists_reminders_read_only(client, statement, coordinator, signer, member_org):
    cosigning.remind(statement, by=coordinator, organisation=member_org)
    coordinator.is_staff = coordinator.is_superuser = True
    coordinator.save()
    client.force_login(coordinator)
    page = client.get(reverse("admin:statements_reminder_changelist"))
    assert page.status_code == 200 and member_org.name in page.content.decode()
    reminder = Reminder.objects.get()
    assert client.post(reverse("admin:statements_reminder_delete", args=[reminder.pk]), {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:statements_reminder_add")).status_code == 403
    assert Reminder.objects.filter(pk=reminder.pk).exists()
