"""The review step before a coordinator's step that cannot be quietly undone: each review page's
findings, nothing happens until confirmed there; reopening a closed statement and moving the
deadline while open, audited and told to those who may sign."""

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from coalition import audit
from coalition.models import OutboundEmail

from statements import review, services, tasks
from statements.models import Comment, Publication, Statement, Subscriber
from statements.services import cosigning
from statements.services import Draft
from statements.workflow import Transition

from .factories import MembershipFactory, OrganisationRoleFactory, confirmation, make_statement

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def local(delta: timedelta) -> str:
    return (timezone.localtime() + delta).strftime("%Y-%m-%dT%H:%M")


def member(coalition, name, *, signers=1):
    organisation = MembershipFactory(coalition=coalition, organisation__name=name).organisation
    users = [OrganisationRoleFactory(organisation=organisation, can_sign=True).user for _ in range(signers)]
    return organisation, users


@pytest.fixture
def members(coalition, member_org, signer):
    """Three more members: two with a signer each, one (Silent Watch) whom nobody may sign for."""
    found = {"Alpha Rights": member(coalition, "Alpha Rights"), "Beta Monitor": member(coalition, "Beta Monitor")}
    MembershipFactory(coalition=coalition, organisation__name="Silent Watch")
    return found


@pytest.fixture
def closed(coalition, coordinator, signer, member_org, members):
    """Signed by one of four members; a Ukrainian translation of revision 1, then the text changed
    (the translation is out of date); an unresolved comment that the text will change."""
    statement = make_statement(coalition, by=coordinator, title="Free the journalists", body="Free them.")
    first = statement.current_revision
    services.add_translation(statement, by=coordinator, language="uk", based_on=None, translation_of=first,
                             draft=Draft("Звільніть журналістів", "", "Звільніть їх."))
    services.save_revision(statement, by=coordinator, based_on=first,
                           draft=Draft("Free the journalists", "", "Free them now."))
    services.add_comment(statement, by=signer, body="The second paragraph will change after the call.")
    services.open_for_signature(statement, by=coordinator, deadline=None)
    statement.refresh_from_db()
    cosigning.sign_for_organisation(statement, by=signer, organisation=member_org,
                                    sha256=statement.signed_revision.sha256)
    services.close_signing(statement, by=coordinator)
    statement.refresh_from_db()
    return statement


# The findings -----------------------------------------------------------------------------------


def test_opening_counts_everyone_told_and_names_the_member_nobody_may_sign_for(coalition, coordinator, signer,
                                                                              members):
    statement = make_statement(coalition, by=coordinator)
    findings = review.review(statement, Transition.OPEN)
    # signer + two members' signers; the coordinator is staff
    assert (findings.emails.signers, findings.emails.staff, findings.emails.total) == (3, 1, 4)
    assert [o.name for o in findings.unsignable] == ["Silent Watch"]
    assert findings.warnings == ["unsignable"]


def test_publishing_warns_about_the_stale_translation_the_comment_and_the_few_signatures(closed, coordinator):
    Subscriber.objects.create(email="reader@example.net", confirmed_at=timezone.now())
    findings = review.review(closed, Transition.PUBLISH)
    assert [t.revision.language for t in findings.stale_translations] == ["uk"]
    assert [c.body for c in findings.unresolved_comments] == ["The second paragraph will change after the call."]
    assert (findings.signed, findings.members, findings.no_answer) == (1, 4, 3)
    assert set(findings.warnings) == {"stale_translations", "unresolved_comments", "few_signed"}
    assert (findings.emails.signers, findings.emails.subscribers, findings.emails.at_release) == (1, 1, True)


def test_closing_and_withdrawing_email_nobody(closed, coordinator):
    assert review.review(closed, Transition.WITHDRAW).emails.total == 0
    statement = make_statement(closed.coalition, by=coordinator, status="open")
    assert review.review(statement, Transition.CLOSE).emails.total == 0


def test_a_signature_on_an_earlier_text_is_named_as_not_to_be_named(coalition, coordinator, signer, member_org):
    statement = make_statement(coalition, by=coordinator, status="open")
    cosigning.sign_for_organisation(statement, by=signer, organisation=member_org,
                                    sha256=statement.signed_revision.sha256)
    services.save_revision(statement, by=coordinator, based_on=statement.current_revision,
                           draft=Draft("A statement", "", "A new text."))
    statement.refresh_from_db()
    findings = review.review(statement, Transition.CLOSE)
    assert [s.organisation for s in findings.earlier] == [member_org]
    assert "earlier" in findings.warnings


# The pages ---------------------------------------------------------------------------------------


def test_the_publish_review_page_shows_the_warnings_with_links_and_the_embargo(client, closed, coordinator):
    client.force_login(coordinator)
    url = reverse("statement_review", args=[closed.slug, "publish"])
    page = client.get(url, {"public_from": local(timedelta(days=2))}).content.decode()
    warnings = page.split('id="warnings-heading"')[1].split("</section>")[0]
    assert "3 warnings" in page
    assert "will be left out of the PDF" in warnings and "Ukrainian" in warnings
    comment = Comment.objects.get(statement=closed)
    assert f'href="{closed.get_absolute_url()}#comment-{comment.pk}"' in warnings
    assert "Only 1 of 4 member organisations signed." in warnings
    assert "Embargo: the statement and its PDF become public at" in page
    assert 'name="acknowledged"' in page and f'action="{reverse("statement_publish", args=[closed.slug])}"' in page
    closed.refresh_from_db()
    assert closed.status == "closed" and not closed.publications.exists()  # looking changes nothing


def test_the_open_review_page_shows_the_recipient_count(client, coalition, coordinator, members):
    statement = make_statement(coalition, by=coordinator)
    client.force_login(coordinator)
    page = client.get(reverse("statement_review", args=[statement.slug, "open"])).content.decode()
    assert "4 emails are sent:" in page
    assert "3 people who may sign for an organisation" in page and "1 coordinator" in page


def test_the_statement_page_leads_to_the_review_and_posts_to_no_action(client, closed, coordinator):
    client.force_login(coordinator)
    page = client.get(closed.get_absolute_url()).content.decode()
    assert reverse("statement_review", args=[closed.slug, "publish"]) in page
    assert reverse("statement_review", args=[closed.slug, "reopen"]) in page
    for name in ("statement_publish", "statement_withdraw", "statement_reopen"):
        assert f'action="{reverse(name, args=[closed.slug])}"' not in page


@pytest.mark.parametrize(("action", "status", "data"), [
    ("open", "draft", {"deadline": ""}),
    ("close", "open", {}),
    ("reopen", "closed", {"deadline": ""}),
    ("publish", "closed", {"public_from": ""}),
    ("correct", "published", {"note": "A name was misspelt."}),
    ("withdraw", "open", {"reason": "Superseded."}),
])
@pytest.mark.slow
def test_nothing_happens_until_confirmed_on_the_review_page(
        client, coalition, coordinator, signer, member_org, action, status, data, django_capture_on_commit_callbacks):
    statement = make_statement(coalition, by=coordinator, status=status)
    # (the first issue's PDF is made after commit: here it is ready and public, as a correction needs)
    Publication.objects.filter(statement=statement).update(state=Publication.State.READY, released_at=timezone.now())
    url = reverse(f"statement_{action}", args=[statement.slug])
    client.force_login(coordinator)
    assert client.get(reverse("statement_review", args=[statement.slug, action])).status_code == 200
    before = (audit.events_for(statement).count(), OutboundEmail.objects.count(), Publication.objects.count())

    refused = client.post(url, data)
    assert refused.status_code == 400 and "Nothing was done" in refused.content.decode()
    stale = client.post(url, {**data, **confirmation(statement, action), "fingerprint": "0" * 32})
    assert stale.status_code == 400 and "the warnings changed" in stale.content.decode()
    statement.refresh_from_db()
    assert statement.status == status
    assert (audit.events_for(statement).count(), OutboundEmail.objects.count(), Publication.objects.count()) == before

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {**data, **confirmation(statement, action)}).status_code == 302
    statement.refresh_from_db()
    assert statement.status != status or action == "correct"
    assert audit.events_for(statement).count() > before[0]


def test_warnings_need_the_acknowledgement(client, closed, coordinator):
    client.force_login(coordinator)
    confirm = confirmation(closed, "publish")
    del confirm["acknowledged"]
    response = client.post(reverse("statement_publish", args=[closed.slug]), {"public_from": "", **confirm})
    assert response.status_code == 400 and "I have read the warnings" in response.content.decode()
    closed.refresh_from_db()
    assert closed.status == "closed" and not closed.publications.exists()


def test_an_unknown_step_is_404_and_a_wrong_state_is_refused_with_a_message(client, closed, coordinator):
    client.force_login(coordinator)
    assert client.get(reverse("statement_review", args=[closed.slug, "explode"])).status_code == 404
    response = client.get(reverse("statement_review", args=[closed.slug, "open"]), follow=True)
    assert "cannot be moved on" in response.content.decode()


def test_an_invalid_time_on_the_review_page_is_a_400_with_the_message(client, closed, coordinator):
    client.force_login(coordinator)
    response = client.get(reverse("statement_review", args=[closed.slug, "publish"]), {"public_from": "soon"})
    assert response.status_code == 400 and "Enter a valid date/time." in response.content.decode()


@pytest.mark.parametrize("who", ["staff", "signer", "outsider"])
@pytest.mark.parametrize("action", ["open", "close", "reopen", "publish", "correct", "withdraw"])
def test_only_coordinators_see_a_review_page(client, coalition, coordinator, request, who, action):
    status = {"open": "draft", "close": "open", "reopen": "closed", "publish": "closed", "correct": "published",
              "withdraw": "draft"}[action]
    statement = make_statement(coalition, by=coordinator, status=status)
    client.force_login(request.getfixturevalue(who))
    response = client.get(reverse("statement_review", args=[statement.slug, action]))
    assert response.status_code in ((404, 403) if who == "outsider" else (403,))


# Reopening ------------------------------------------------------------------------------------------


def test_reopening_a_closed_statement_is_audited_and_told_to_those_told_at_opening(
        client, closed, coordinator, signer, members):
    client.force_login(coordinator)
    before = OutboundEmail.objects.filter(kind="statement_opened").count()
    response = client.post(reverse("statement_reopen", args=[closed.slug]),
                           {"deadline": local(timedelta(days=5)), **confirmation(closed, "reopen")})
    assert response.status_code == 302
    closed.refresh_from_db()
    assert closed.status == "open" and closed.closed_at is None and closed.deadline > timezone.now()
    event = audit.events_for(closed).get(action="statement.reopened")
    assert event.actor == coordinator and event.data["previous_deadline"] is None and event.data["deadline"]
    told = OutboundEmail.objects.filter(dedupe_key__startswith=f"statement-reopened:{closed.pk}:")
    assert told.count() == 4 and OutboundEmail.objects.filter(kind="statement_opened").count() == before + 4
    message = told.get(recipient=signer.email)
    assert "reopened" in message.subject.lower() or "again" in message.subject.lower()
    assert "By when:" in message.body_text and "Kyiv time" in message.body_text  # the new deadline, with its zone
    assert closed.signatures.live().count() == 1  # signatures given stand


def test_reopening_after_the_deadline_passed_needs_a_new_one(closed, coordinator):
    Statement.objects.filter(pk=closed.pk).update(deadline=timezone.now() - timedelta(hours=1))
    closed.refresh_from_db()
    with pytest.raises(Exception, match="give a new one"):
        services.reopen(closed, by=coordinator, deadline=None)
    with pytest.raises(Exception, match="must be in the future"):
        services.reopen(closed, by=coordinator, deadline=timezone.now() - timedelta(minutes=1))
    closed.refresh_from_db()
    assert closed.status == "closed"
    services.reopen(closed, by=coordinator, deadline=timezone.now() + timedelta(days=1))
    closed.refresh_from_db()
    assert closed.status == "open"


def test_a_published_statement_cannot_be_reopened(client, coalition, coordinator):
    statement = make_statement(coalition, by=coordinator, status="published")
    client.force_login(coordinator)
    response = client.post(reverse("statement_reopen", args=[statement.slug]),
                           {"deadline": "", **confirmation(statement, "reopen")})
    assert response.status_code == 400 and "cannot be moved on" in response.content.decode()
    statement.refresh_from_db()
    assert statement.status == "published"


def test_member_staff_cannot_reopen(client, closed, staff):
    client.force_login(staff)
    response = client.post(reverse("statement_reopen", args=[closed.slug]),
                           {"deadline": "", **confirmation(closed, "reopen")})
    assert response.status_code == 403
    closed.refresh_from_db()
    assert closed.status == "closed"


# Moving the deadline ----------------------------------------------------------------------------------


@pytest.fixture
def open_statement(coalition, coordinator, signer, member_org, members):
    return make_statement(coalition, by=coordinator, status="open", title="Stop the shelling")


def test_moving_the_deadline_is_audited_and_told_with_its_zone(client, open_statement, coordinator, signer):
    client.force_login(coordinator)
    response = client.post(reverse("statement_deadline", args=[open_statement.slug]),
                           {"deadline": local(timedelta(days=4))})
    assert response.status_code == 302
    open_statement.refresh_from_db()
    event = audit.events_for(open_statement).get(action="statement.deadline_moved")
    assert event.data["previous_deadline"] is None and event.data["deadline"] and event.actor == coordinator
    messages = OutboundEmail.objects.filter(dedupe_key__startswith=f"deadline-moved:{open_statement.pk}:")
    assert messages.count() == 4
    body = messages.get(recipient=signer.email).body_text
    assert "signing is now open until" in body
    assert re.search(r"\d{2}:\d{2} (EET|EEST|Kyiv time)", body), body  # the time says its zone
    events = client.get(reverse("statement_events", args=[open_statement.slug])).content.decode()
    assert "moved the signing deadline to" in events and "(before: not set)" in events


def test_a_deadline_in_the_past_or_unreadable_is_a_400_with_the_message(client, open_statement, coordinator):
    client.force_login(coordinator)
    url = reverse("statement_deadline", args=[open_statement.slug])
    past = client.post(url, {"deadline": local(-timedelta(hours=2))})
    assert past.status_code == 400 and "must be in the future" in past.content.decode()
    assert client.post(url, {"deadline": "tomorrow"}).status_code == 400
    assert client.post(url, {}).status_code == 400
    assert not audit.events_for(open_statement).filter(action="statement.deadline_moved").exists()


def test_only_coordinators_move_the_deadline_and_only_while_open(client, open_statement, coordinator, signer):
    client.force_login(signer)
    url = reverse("statement_deadline", args=[open_statement.slug])
    assert client.post(url, {"deadline": local(timedelta(days=4))}).status_code == 403
    services.close_signing(open_statement, by=coordinator)
    client.force_login(coordinator)
    response = client.post(url, {"deadline": local(timedelta(days=4))})
    assert response.status_code == 400 and "only while the statement is open" in response.content.decode()


def test_the_deadline_sweep_honours_the_moved_deadline(open_statement, coordinator):
    services.move_deadline(open_statement, by=coordinator, deadline=timezone.now() + timedelta(hours=1))
    assert tasks.close_signing_at_deadlines() == 0
    open_statement.refresh_from_db()
    services.move_deadline(open_statement, by=coordinator, deadline=timezone.now() + timedelta(days=3))
    later = timezone.now() + timedelta(hours=2)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert tasks.close_signing_at_deadlines() == 0  # the old deadline has passed; the new one has not
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(days=4)):
        assert tasks.close_signing_at_deadlines() == 1
    open_statement.refresh_from_db()
    assert open_statement.status == "closed"


def test_a_statement_reopened_and_closed_again_at_its_new_deadline_tells_the_coordinators_again(
        closed, coordinator, django_capture_on_commit_callbacks):
    first = timezone.now() + timedelta(days=1)
    services.reopen(closed, by=coordinator, deadline=first)
    with django_capture_on_commit_callbacks(execute=True):
        with mock.patch("django.utils.timezone.now", return_value=first + timedelta(minutes=1)):
            assert tasks.close_signing_at_deadlines() == 1
    closed.refresh_from_db()
    second = first + timedelta(days=2)
    with mock.patch("django.utils.timezone.now", return_value=first + timedelta(minutes=2)):
        services.reopen(closed, by=coordinator, deadline=second)
    with django_capture_on_commit_callbacks(execute=True):
        with mock.patch("django.utils.timezone.now", return_value=second + timedelta(minutes=1)):
            assert tasks.close_signing_at_deadlines() == 1
    assert OutboundEmail.objects.filter(kind="deadline_passed", recipient=coordinator.email).count() == 2


def test_the_reopen_review_keeps_the_old_deadline_and_says_when_it_has_passed(client, closed, coordinator):
    client.force_login(coordinator)
    url = reverse("statement_review", args=[closed.slug, "reopen"])
    Statement.objects.filter(pk=closed.pk).update(deadline=timezone.now() + timedelta(days=2))
    assert "Signing stops at the deadline" in client.get(url).content.decode()
    Statement.objects.filter(pk=closed.pk).update(deadline=timezone.now() - timedelta(days=2))
    page = client.get(url).content.decode()
    assert "has passed: give a new one below" in page
    assert "give a new one below" not in client.get(url, {"deadline": local(timedelta(days=3))}).content.decode()


def test_a_publication_counts_each_address_once(closed, signer):
    """The signer is also subscribed and signed as an individual: one email, counted as a signer's."""
    Subscriber.objects.create(email=signer.email.upper(), confirmed_at=timezone.now())
    Subscriber.objects.create(email="reader@example.net", confirmed_at=timezone.now())
    for email in (signer.email.upper(), "olena@example.org"):
        closed.signatures.create(revision=closed.signed_revision, sha256=closed.signed_revision.sha256,
                                 kind="individual", name="Someone", email=email, confirmed_at=timezone.now())
    emails = review.review(closed, Transition.PUBLISH).emails
    assert (emails.signers, emails.individuals, emails.subscribers) == (1, 1, 1)


def test_the_publish_review_asks_a_fixed_number_of_queries_whatever_the_signatures(client, closed, coordinator):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(coordinator)
    url = reverse("statement_review", args=[closed.slug, "publish"])

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    def add_individuals(n, start):
        closed.signatures.bulk_create([
            closed.signatures.model(statement=closed, revision=closed.signed_revision,
                                    sha256=closed.signed_revision.sha256, kind="individual", name=f"Person {i}",
                                    email=f"person{i}@example.net", confirmed_at=timezone.now())
            for i in range(start, start + n)])

    add_individuals(2, 0)
    few = queries()
    add_individuals(50, 2)
    assert queries() == few


def test_the_public_page_shows_the_moved_deadline_at_once(client, coalition, coordinator, settings):
    from django.utils.dateformat import format as date_format

    statement = make_statement(coalition, by=coordinator, status="open", allows_individuals=True)
    first = timezone.now() + timedelta(days=2)
    services.move_deadline(statement, by=coordinator, deadline=first)
    assert date_format(timezone.localtime(first), "j F Y") in client.get(statement.get_absolute_url()).content.decode()
    later = timezone.now() + timedelta(days=40)
    services.move_deadline(statement, by=coordinator, deadline=later)
    page = client.get(statement.get_absolute_url()).content.decode()
    assert date_format(timezone.localtime(later), "j F Y") in page


def test_a_ukrainian_signer_is_told_of_the_new_deadline_in_ukrainian(coalition, coordinator, member_org):
    ukrainian = OrganisationRoleFactory(organisation=member_org, can_sign=True, user__language="uk").user
    statement = make_statement(coalition, by=coordinator, status="open")
    services.move_deadline(statement, by=coordinator, deadline=timezone.now() + timedelta(days=3))
    message = OutboundEmail.objects.get(recipient=ukrainian.email, dedupe_key__startswith="deadline-moved:")
    assert message.subject.startswith("Новий кінцевий термін підписання")
    assert "тепер підписання відкрите до" in message.body_text
