"""Messages to many recipients (a statement opened, an issue released, the deadline passed) are
written by a task after commit, in bulk, exactly once, and still when the broker was down at
commit (the outbox sweep runs the fan-out)."""

import re
from functools import partial

import pytest
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from coalition import outbox
from coalition.models import EmailOptOut, OutboundEmail

from statements import fanouts, notifications, tasks
from statements.models import FanOut, Publication, Subscriber
from statements.services import publishing

from .factories import OrganisationRoleFactory, confirmation, make_statement

pytestmark = pytest.mark.django_db

committed = partial(TestCase.captureOnCommitCallbacks, execute=True)


def untimed(text: str) -> str:
    """The text with the time inside each unsubscribe link's signature left out (it has seconds)."""
    return re.sub(r"(/unsubscribe/[^:/]+):[^/]+/", r"\1/", text)


def opened_emails():
    return {e.recipient: e for e in OutboundEmail.objects.filter(kind=EmailOptOut.Kind.STATEMENT_OPENED)}


@pytest.fixture
def draft(coalition, coordinator):
    return make_statement(coalition, by=coordinator, title="Free the hostages")


@pytest.fixture
def signers(member_org, coalition):
    return [OrganisationRoleFactory(organisation=member_org, coalition=coalition, can_sign=True,
                                    user__language=language).user for language in ("en", "uk", "uk")]


def open_through_the_page(client, statement, coordinator):
    client.force_login(coordinator)
    return client.post(reverse("statement_open", args=[statement.slug]), {"deadline": "", **confirmation(statement, "open")})


def test_the_request_that_opens_a_statement_writes_a_pending_fan_out_and_no_messages(
        client, draft, coordinator, signers):
    with TestCase.captureOnCommitCallbacks(execute=False) as queued:
        assert open_through_the_page(client, draft, coordinator).status_code == 302
    assert not OutboundEmail.objects.exists()
    fan_out = FanOut.objects.get()
    assert (fan_out.event, fan_out.statement, fan_out.done_at) == ("statement_opened", draft, None)
    assert queued  # the fan-out's task, queued after commit


def test_after_the_task_each_recipient_has_one_message_in_their_language_as_enqueue_writes_it(
        client, draft, coordinator, signers, member_org, settings):
    with committed():
        open_through_the_page(client, draft, coordinator)
    sent = opened_emails()
    assert set(sent) == {coordinator.email, *(user.email for user in signers)}
    assert [sent[user.email].language for user in signers] == ["en", "uk", "uk"]
    assert "Відкрито для підписання" in sent[signers[1].email].subject
    assert FanOut.objects.get().done_at is not None and FanOut.objects.get().messages == 4
    # The bulk path writes exactly the message the one-at-a-time path writes, unsubscribe link included.
    draft.refresh_from_db()
    for user, names, coordinates in [(signers[1], [member_org.name], False), (coordinator, [], True)]:
        one = outbox.enqueue(kind=EmailOptOut.Kind.STATEMENT_OPENED, dedupe_key=f"compare:{user.pk}",
                             recipient=user.email, template="statement_opened", language=user.language,
                             context={"statement": draft, "revision": draft.signed_revision, "organisations": names,
                                      "coordinator": coordinates,
                                      "sign_url": settings.SITE_URL + reverse("statement_sign", args=[draft.slug]),
                                      "roster_url": settings.SITE_URL + reverse("statement_roster", args=[draft.slug])})
        bulk = sent[user.email]
        assert [untimed(part) for part in (bulk.subject, bulk.body_text, bulk.body_html, str(bulk.headers))] == [
            untimed(part) for part in (one.subject, one.body_text, one.body_html, str(one.headers))]
        assert bulk.headers["List-Unsubscribe"].startswith("<") and "/unsubscribe/" in bulk.body_text


def test_running_the_fan_out_again_writes_nothing_twice_and_sends_nothing_twice(
        draft, coordinator, signers, mailoutbox):
    from statements import services

    with committed():
        services.open_for_signature(draft, by=coordinator, deadline=None)
    fan_out = FanOut.objects.get()
    assert len(mailoutbox) == 4
    with committed():
        assert tasks.run_fan_out.apply((fan_out.pk,)).successful()  # done: skipped
        FanOut.objects.filter(pk=fan_out.pk).update(done_at=None)  # as if its end was never recorded
        assert fanouts.run(fan_out.pk, notifications.FAN_OUT_WRITERS) == 0
    assert OutboundEmail.objects.count() == 4 and len(mailoutbox) == 4


def test_when_the_broker_is_down_at_commit_the_sweep_runs_the_fan_out(
        draft, coordinator, signers, mailoutbox, monkeypatch, settings):
    from statements import services

    def broker_down(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with monkeypatch.context() as broken:
        broken.setattr(tasks.run_fan_out, "apply_async", broker_down)
        with committed():
            services.open_for_signature(draft, by=coordinator, deadline=None)
    assert FanOut.objects.get().done_at is None and not OutboundEmail.objects.exists() and not mailoutbox

    settings.OUTBOX_SWEEP_GRACE_SECONDS = 0
    with committed():
        tasks.deliver_pending()
    assert FanOut.objects.get().done_at is not None
    assert set(opened_emails()) == {coordinator.email, *(user.email for user in signers)}
    assert sorted(m.to[0] for m in mailoutbox) == sorted([coordinator.email, *(user.email for user in signers)])


def test_a_young_pending_fan_out_is_left_to_its_own_task(draft, coordinator, settings):
    settings.OUTBOX_SWEEP_GRACE_SECONDS = 120
    fanouts.request(FanOut.Event.STATEMENT_OPENED, draft)
    assert fanouts.pending_ids() == []


def test_a_release_writes_in_batches_each_address_once_skipping_opt_outs(coalition, coordinator, monkeypatch):
    monkeypatch.setattr(outbox, "WRITE_BATCH_SIZE", 2)
    statement = make_statement(coalition, by=coordinator, status="closed", title="Stop the deportations")
    publication = Publication.objects.create(statement=statement, number=1, revision=statement.signed_revision,
                                             created_by=coordinator, state=Publication.State.READY)
    for n, language in enumerate(["en", "uk", "en", "uk", "en"]):
        Subscriber.objects.create(email=f"r{n}@example.net", language=language, confirmed_at=timezone.now())
    EmailOptOut.objects.create(email="r2@example.net", kind=EmailOptOut.Kind.STATEMENT_PUBLISHED)
    with committed():
        publishing.release(publication)
        notifications.publication_released(publication)  # told again: no second fan-out
    rows = {e.recipient: e.language for e in OutboundEmail.objects.filter(kind="statement_published")}
    assert rows == {"r0@example.net": "en", "r1@example.net": "uk", "r3@example.net": "uk", "r4@example.net": "en"}
    assert FanOut.objects.get(event="publication_released").messages == 4


def test_a_text_changed_while_open_gives_each_individual_a_link_of_their_own_and_a_rerun_keeps_it(
        coalition, coordinator, signer, member_org):
    from statements import services
    from statements.services import cosigning
    from statements.models import Signature
    from statements.services import Draft

    statement = make_statement(coalition, by=coordinator, status="open", title="Free the hostages")
    cosigning.sign_for_organisation(statement, by=signer, organisation=member_org,
                                    sha256=statement.signed_revision.sha256)
    for name, language in [("Olena", "uk"), ("Ann", "en")]:
        Signature.objects.create(statement=statement, revision=statement.signed_revision, name=name,
                                 sha256=statement.signed_revision.sha256, kind=Signature.Kind.INDIVIDUAL,
                                 email=f"{name.lower()}@example.net", language=language, confirmed_at=timezone.now())
    with committed():
        services.save_revision(statement, by=coordinator, based_on=statement.signed_revision,
                               draft=Draft("Free the hostages now", "", "A stronger call."))
    rows = {e.recipient: e for e in OutboundEmail.objects.filter(kind=EmailOptOut.Kind.TEXT_CHANGED)}
    assert set(rows) == {signer.email, "olena@example.net", "ann@example.net"}
    assert rows["olena@example.net"].language == "uk" and "змінено" in rows["olena@example.net"].subject
    links = [re.search(r"/confirm/[^/\s]+/", rows[email].body_text).group(0)
             for email in ("olena@example.net", "ann@example.net")]
    assert links[0] != links[1] and all(link in rows[email].body_html
                                        for link, email in zip(links, ("olena@example.net", "ann@example.net")))
    hashes = sorted(Signature.objects.filter(kind="individual").values_list("token_hash", flat=True))

    fan_out = FanOut.objects.get(event=FanOut.Event.TEXT_CHANGED)
    FanOut.objects.filter(pk=fan_out.pk).update(done_at=None)
    assert fanouts.run(fan_out.pk, notifications.FAN_OUT_WRITERS) == 0
    assert sorted(Signature.objects.filter(kind="individual").values_list("token_hash", flat=True)) == hashes
