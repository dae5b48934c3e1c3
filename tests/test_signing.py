"""Signing for an organisation: the confirmation step, withdrawal, re-signing, declining, partners,
a text changed while open, the deadline, the roster, the CSV export and the statement's list of
signatories."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coalition import audit
from coalition.models import EmailOptOut, OutboundEmail

from statements import services, tasks
from statements.models import Decline, Signature, Statement
from statements.services import cosigning
from statements.services import Draft

from .factories import MembershipFactory, OrganisationFactory, OrganisationRoleFactory, UserFactory, make_statement

pytestmark = pytest.mark.django_db


@pytest.fixture
def statement(coalition, coordinator):
    return make_statement(coalition, by=coordinator, status="open", title="Free the hostages",
                          body="We call for the release of every civilian hostage.")


def sign_url(statement, organisation=None):
    url = reverse("statement_sign", args=[statement.slug])
    return f"{url}?organisation={organisation.slug}" if organisation else url


def post_sign(client, statement, organisation, sha256=None):
    return client.post(sign_url(statement), {"organisation": organisation.slug,
                                             "sha256": sha256 or statement.signed_revision.sha256})


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def sign(statement, user, organisation):
    return cosigning.sign_for_organisation(statement, by=user, organisation=organisation,
                                           sha256=statement.signed_revision.sha256)


# Signing, withdrawing, re-signing --------------------------------------------------------------


def test_a_signer_sees_a_confirmation_step_naming_organisation_title_and_short_hash(client, statement, signer, member_org):
    client.force_login(signer)
    page = client.get(sign_url(statement)).content.decode()
    revision = statement.signed_revision
    assert "Confirm your signature" in page
    assert member_org.name in page and "Free the hostages" in page and revision.sha256[:12] in page
    assert f"Sign for {member_org.name}" in page
    assert not Signature.objects.exists()


def test_signing_for_an_organisation_binds_the_signature_to_the_exact_text(client, statement, signer, member_org):
    client.force_login(signer)
    response = post_sign(client, statement, member_org)
    assert response.status_code == 302
    signature = Signature.objects.get()
    assert signature.organisation == member_org and signature.signed_by == signer
    assert signature.revision == statement.signed_revision and signature.sha256 == statement.signed_revision.sha256
    event = audit.events_for(statement).get(action="signature.signed")
    assert event.actor == signer and event.data["sha256"] == signature.sha256
    page = client.get(response.url)
    assert f"You signed “Free the hostages” for {member_org.name}." in messages_of(page)


def test_a_signer_of_several_organisations_chooses_which_one(client, coalition, statement, signer, member_org):
    other = MembershipFactory(coalition=coalition, organisation__name="ZMINA").organisation
    OrganisationRoleFactory(user=signer, organisation=other, can_sign=True)
    client.force_login(signer)
    page = client.get(sign_url(statement)).content.decode()
    assert "Confirm your signature" not in page  # nothing chosen yet
    assert f"?organisation={other.slug}" in page and f"?organisation={member_org.slug}" in page
    chosen = client.get(sign_url(statement, other)).content.decode()
    assert "Confirm your signature" in chosen and "Sign for ZMINA" in chosen
    post_sign(client, statement, other)
    assert Signature.objects.get().organisation == other


def test_signing_for_an_organisation_without_signing_authority_is_forbidden(client, statement, staff, member_org):
    client.force_login(staff)
    assert post_sign(client, statement, member_org).status_code == 403
    assert not Signature.objects.exists()


def test_signing_for_an_organisation_outside_the_coalition_is_forbidden(client, statement, signer):
    outside = OrganisationFactory()
    OrganisationRoleFactory(user=signer, organisation=outside, can_sign=True)
    client.force_login(signer)
    assert post_sign(client, statement, outside).status_code == 403
    assert not Signature.objects.exists()


def test_signing_for_an_organisation_needs_to_be_signed_in(client, coalition, coordinator, member_org):
    public = make_statement(coalition, by=coordinator, status="open", allows_individuals=True)
    response = post_sign(client, public, member_org)
    assert response.status_code == 302 and "/accounts/login/" in response.url
    assert not Signature.objects.exists()


def test_an_open_statement_for_organisations_only_is_not_shown_to_the_public(client, statement, member_org):
    assert client.get(sign_url(statement)).status_code == 404
    assert post_sign(client, statement, member_org).status_code == 404


def test_signing_twice_for_one_organisation_keeps_one_signature(client, statement, signer, member_org):
    client.force_login(signer)
    post_sign(client, statement, member_org)
    response = post_sign(client, statement, member_org)
    assert Signature.objects.count() == 1
    assert f"{member_org.name} has already signed this statement." in messages_of(client.get(response.url))


def test_a_text_changed_since_the_page_was_read_is_not_signed(client, statement, signer, member_org):
    client.force_login(signer)
    response = post_sign(client, statement, member_org, sha256="0" * 64)
    assert not Signature.objects.exists()
    assert "The text changed while you were reading it." in " ".join(messages_of(client.get(response.url)))


def test_withdrawing_leaves_the_public_list_and_stays_in_the_audit_log(client, statement, signer, member_org):
    signature = sign(statement, signer, member_org)
    client.force_login(signer)
    assert member_org.name in client.get(statement.get_absolute_url()).content.decode()
    response = client.post(reverse("signature_withdraw", args=[statement.slug, signature.pk]))
    assert response.status_code == 302
    signature.refresh_from_db()
    assert signature.withdrawn_at is not None and signature.withdrawn_by == signer
    page = client.get(statement.get_absolute_url()).content.decode()
    assert "Nobody has signed yet." in page
    assert audit.events_for(statement).filter(action="signature.withdrawn").count() == 1
    assert audit.events_for(statement).filter(action="signature.signed").count() == 1


def test_re_signing_after_withdrawing_makes_a_new_live_signature(client, statement, signer, member_org):
    first = sign(statement, signer, member_org)
    cosigning.withdraw_signature(first, by=signer)
    client.force_login(signer)
    post_sign(client, statement, member_org)
    assert Signature.objects.count() == 2
    assert Signature.objects.live().get().pk != first.pk


def test_after_withdrawing_the_sign_page_does_not_ask_at_once_to_sign_again(client, statement, signer, member_org):
    signature = sign(statement, signer, member_org)
    client.force_login(signer)
    response = client.post(reverse("signature_withdraw", args=[statement.slug, signature.pk]), follow=True)
    page = response.content.decode()
    assert f"The signature of {member_org.name} is withdrawn." in page
    assert "Confirm your signature" not in page
    assert f"Sign for {member_org.name}…" in page  # signing again is one deliberate step away
    assert "signature withdrawn" in page and "not signed yet" not in page
    assert f"Withdrawn by {signer.get_full_name()} on" in page
    chosen = client.get(sign_url(statement, member_org)).content.decode()
    assert "Confirm your signature" in chosen


def test_only_someone_who_may_sign_for_the_organisation_withdraws_its_signature(client, statement, signer, staff, member_org):
    signature = sign(statement, signer, member_org)
    client.force_login(staff)
    assert client.post(reverse("signature_withdraw", args=[statement.slug, signature.pk])).status_code == 403
    signature.refresh_from_db()
    assert signature.is_live


def test_the_database_holds_one_live_signature_per_organisation(statement, signer, member_org):
    from django.db import IntegrityError, transaction

    sign(statement, signer, member_org)
    revision = statement.signed_revision
    with pytest.raises(IntegrityError), transaction.atomic():
        Signature.objects.create(statement=statement, revision=revision, sha256=revision.sha256,
                                 kind="organisation", organisation=member_org, signed_by=signer)


# Closed, deadline ------------------------------------------------------------------------------


def test_a_closed_statement_refuses_signatures_with_a_message(client, statement, coordinator, signer, member_org):
    services.close_signing(statement, by=coordinator)
    client.force_login(signer)
    response = post_sign(client, statement, member_org)
    assert not Signature.objects.exists()
    assert "Signing of this statement is closed." in messages_of(client.get(response.url))


def test_a_statement_past_its_deadline_refuses_signatures_with_a_message(client, statement, signer, member_org):
    Statement.objects.filter(pk=statement.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    client.force_login(signer)
    response = post_sign(client, statement, member_org)
    assert not Signature.objects.exists()
    page = client.get(response.url)
    assert any("The signing deadline passed on" in m for m in messages_of(page))
    assert "Sign for" not in page.content.decode().split("</h1>", 1)[1]


def test_withdrawing_after_close_is_refused(statement, coordinator, signer, member_org):
    signature = sign(statement, signer, member_org)
    services.close_signing(statement, by=coordinator)
    with pytest.raises(ValidationError, match="closed"):
        cosigning.withdraw_signature(signature, by=signer)


def test_the_periodic_task_closes_statements_past_their_deadline_once(coalition, coordinator, statement):
    later = make_statement(coalition, by=coordinator, status="open", title="Later")
    Statement.objects.filter(pk=later.pk).update(deadline=timezone.now() + timedelta(days=1))
    Statement.objects.filter(pk=statement.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    assert tasks.close_signing_at_deadlines() == 1
    assert tasks.close_signing_at_deadlines() == 0
    statement.refresh_from_db()
    later.refresh_from_db()
    assert statement.status == "closed" and later.status == "open"
    event = audit.events_for(statement).get(action="statement.closed")
    assert event.actor is None and event.data["at_deadline"] is True


def test_the_site_does_not_close_a_statement_before_its_deadline(statement):
    with pytest.raises(ValidationError):
        services.close_signing(statement, by=None)


def test_the_deadline_close_task_is_on_the_beat_schedule(settings):
    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "statements.tasks.close_signing_at_deadlines" in tasks_scheduled


# Declining ---------------------------------------------------------------------------------------


def test_declining_is_on_the_roster_with_a_reason_only_coordinators_see(client, statement, signer, coordinator, member_org):
    client.force_login(signer)
    response = client.post(reverse("statement_decline", args=[statement.slug]),
                           {"organisation": member_org.slug, "reason": "Our board has not met."})
    assert response.status_code == 302
    assert Decline.objects.get().reason == "Our board has not met."
    assert "Our board has not met." not in client.get(statement.get_absolute_url()).content.decode()
    assert client.get(reverse("statement_roster", args=[statement.slug])).status_code == 403
    client.force_login(coordinator)
    roster = client.get(reverse("statement_roster", args=[statement.slug])).content.decode()
    assert "Declined (1 organisation)" in roster and "Our board has not met." in roster
    assert audit.events_for(statement).filter(action="signature.declined").exists()


def test_signing_after_declining_takes_the_answer_back(statement, signer, member_org):
    cosigning.decline(statement, by=signer, organisation=member_org)
    sign(statement, signer, member_org)
    assert Decline.objects.get().retracted_at is not None
    with pytest.raises(ValidationError, match="withdraw the signature before declining"):
        cosigning.decline(statement, by=signer, organisation=member_org)


# Partners ----------------------------------------------------------------------------------------


def test_an_invited_partner_from_outside_the_coalition_may_sign(client, statement, coordinator):
    partner = OrganisationFactory(name="Center for Civil Liberties")
    # the coalition gave the partner its signer (before inviting it to this statement)
    partner_signer = OrganisationRoleFactory(organisation=partner, coalition=statement.coalition, can_sign=True).user
    client.force_login(partner_signer)
    assert client.get(statement.get_absolute_url()).status_code == 404
    client.force_login(coordinator)
    client.post(reverse("statement_invite_partner", args=[statement.slug]), {"organisation": partner.pk})
    assert statement.invited_partners.get().organisation == partner
    client.force_login(partner_signer)
    assert "Center for Civil Liberties" in client.get(sign_url(statement)).content.decode()
    post_sign(client, statement, partner)
    assert Signature.objects.get().organisation == partner
    client.force_login(coordinator)
    roster = client.get(reverse("statement_roster", args=[statement.slug])).content.decode()
    assert "invited partner" in roster


def test_only_coordinators_invite_partners(client, statement, signer):
    partner = OrganisationFactory()
    client.force_login(signer)
    assert client.post(reverse("statement_invite_partner", args=[statement.slug]),
                       {"organisation": partner.pk}).status_code == 403
    assert not statement.invited_partners.exists()


# A text changed while open ----------------------------------------------------------------------


def test_a_text_changed_while_open_asks_the_signer_to_confirm_and_confirming_binds_the_new_text(
        client, statement, coordinator, signer, member_org, mailoutbox):
    signer.language = "uk"
    signer.save()
    signature = sign(statement, signer, member_org)
    old = statement.signed_revision
    with TestCase.captureOnCommitCallbacks(execute=True):  # the fan-out that writes the message
        new = services.save_revision(statement, by=coordinator, based_on=old,
                                     draft=Draft("Free the hostages", "", "We call for the release of every hostage."))
    statement.refresh_from_db()
    assert statement.signed_revision == new
    email = OutboundEmail.objects.get(kind=EmailOptOut.Kind.TEXT_CHANGED)
    assert email.recipient == signer.email and email.language == "uk"
    assert "Free the hostages" in email.subject and "Текст, який ви підписали, змінено" in email.subject
    assert sign_url(statement) in email.body_text
    client.force_login(signer)  # who reads the site in Ukrainian, their saved language
    page = client.get(statement.get_absolute_url()).content.decode()
    assert "підписано попередній текст" in page
    diff = f"{reverse('statement_diff', args=[statement.slug])}?old={old.number}&amp;new={new.number}"
    assert diff in client.get(sign_url(statement)).content.decode()
    response = client.post(reverse("signature_confirm_text", args=[statement.slug, signature.pk]),
                           {"sha256": new.sha256})
    assert response.status_code == 302
    signature.refresh_from_db()
    assert signature.revision == new and signature.sha256 == new.sha256 and signature.rebound_by == signer
    assert audit.events_for(statement).get(action="signature.text_confirmed").data["previous_revision"] == old.number
    assert "підписано попередній текст" not in client.get(statement.get_absolute_url()).content.decode()


def test_confirming_the_new_text_needs_signing_authority(client, statement, coordinator, signer, staff, member_org):
    signature = sign(statement, signer, member_org)
    new = services.save_revision(statement, by=coordinator, based_on=statement.signed_revision,
                                 draft=Draft("Free the hostages", "", "Changed."))
    with pytest.raises(PermissionDenied):
        cosigning.confirm_new_text(signature, by=staff, sha256=new.sha256)


# Roster, CSV, the statement page ----------------------------------------------------------------


def test_the_roster_tells_signed_declined_and_no_answer_with_who_may_sign(client, coalition, statement, coordinator, signer, member_org):
    quiet = MembershipFactory(coalition=coalition, organisation__name="Quiet Org").organisation
    quiet_signer = OrganisationRoleFactory(organisation=quiet, can_sign=True, user__name="Petro Quiet").user
    declining = MembershipFactory(coalition=coalition, organisation__name="Declining Org").organisation
    cosigning.decline(statement, by=OrganisationRoleFactory(organisation=declining, can_sign=True).user,
                      organisation=declining, reason="Not our field.")
    sign(statement, signer, member_org)
    client.force_login(coordinator)
    page = client.get(reverse("statement_roster", args=[statement.slug])).content.decode()
    assert "No answer yet (1 organisation)" in page and "Signed (1 organisation)" in page
    assert "Declined (1 organisation)" in page and "Not our field." in page
    assert "Petro Quiet" in page and quiet_signer.email in page
    assert signer.get_full_name() in page and statement.signed_revision.sha256[:12] in page


def test_the_signatures_csv_has_a_bom_cyrillic_organisations_and_confirmed_individuals(client, coalition, coordinator):
    statement = make_statement(coalition, by=coordinator, status="open", allows_individuals=True, title="Заява")
    org = MembershipFactory(coalition=coalition, organisation__name="Правозахисна група «Січ»").organisation
    sign(statement, OrganisationRoleFactory(organisation=org, can_sign=True).user, org)
    revision = statement.signed_revision
    Signature.objects.create(statement=statement, revision=revision, sha256=revision.sha256, kind="individual",
                             name="Олена Петренко", email="olena@example.org", confirmed_at=timezone.now())
    Signature.objects.create(statement=statement, revision=revision, sha256=revision.sha256, kind="individual",
                             name="Not Confirmed", email="nc@example.org")
    client.force_login(coordinator)
    response = client.get(reverse("statement_signatures_csv", args=[statement.slug]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["kind", "organisation", "name"]
    assert [(r[0], r[1] or r[2]) for r in rows[1:]] == [
        ("organisation", "Правозахисна група «Січ»"), ("individual", "Олена Петренко")]
    assert rows[1][9] == revision.sha256


def test_the_signatures_csv_is_for_coordinators_only(client, statement, signer):
    client.force_login(signer)
    assert client.get(reverse("statement_signatures_csv", args=[statement.slug])).status_code == 403


def test_the_statement_page_lists_organisations_alphabetically_then_individuals_with_counts(client, coalition, coordinator):
    statement = make_statement(coalition, by=coordinator, status="open", allows_individuals=True)
    for name in ["Zeta Group", "Alpha Union", "Mid Centre"]:
        org = MembershipFactory(coalition=coalition, organisation__name=name).organisation
        sign(statement, OrganisationRoleFactory(organisation=org, can_sign=True).user, org)
    revision = statement.signed_revision
    Signature.objects.create(statement=statement, revision=revision, sha256=revision.sha256, kind="individual",
                             name="Iryna Shown", affiliation="Lawyer", email="shown@example.org",
                             confirmed_at=timezone.now())
    Signature.objects.create(statement=statement, revision=revision, sha256=revision.sha256, kind="individual",
                             name="Unconfirmed Person", email="u@example.org")
    page = client.get(statement.get_absolute_url()).content.decode()
    section = page.split('id="signatories"', 1)[1]
    assert section.index("Alpha Union") < section.index("Mid Centre") < section.index("Zeta Group") < section.index("Iryna Shown")
    assert "3 organisations" in section and "1 individual" in section and "Lawyer" in section
    assert "Unconfirmed Person" not in page and "shown@example.org" not in page


def _statement_page_queries(client, statement) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(statement.get_absolute_url()).status_code == 200
    return len(queries)


def test_the_statement_page_query_count_does_not_grow_with_signatories(client, coalition, coordinator):
    statement = make_statement(coalition, by=coordinator, status="open", allows_individuals=True)
    revision = statement.signed_revision

    def add(n, start):
        for i in range(start, start + n):
            org = MembershipFactory(coalition=coalition).organisation
            Signature.objects.create(statement=statement, revision=revision, sha256=revision.sha256,
                                     kind="organisation", organisation=org, signed_by=coordinator)
            Signature.objects.create(statement=statement, revision=revision, sha256=revision.sha256,
                                     kind="individual", name=f"P{i}", email=f"p{i}@example.org",
                                     confirmed_at=timezone.now())

    add(2, 0)
    few = _statement_page_queries(client, statement)
    add(30, 2)
    assert _statement_page_queries(client, statement) == few
    client.force_login(coordinator)
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("statement_roster", args=[statement.slug]))
    add(20, 40)
    with CaptureQueriesContext(connection) as large:
        client.get(reverse("statement_roster", args=[statement.slug]))
    assert len(large) == len(small)


def test_every_signing_step_is_an_event_with_words_on_the_events_page(client, statement, coordinator, signer, member_org):
    signature = sign(statement, signer, member_org)
    cosigning.withdraw_signature(signature, by=signer)
    client.force_login(coordinator)
    page = client.get(reverse("statement_events", args=[statement.slug])).content.decode()
    assert f"{member_org.name} signed revision 1 (signed by {signer.get_full_name()})" in page
    assert f"{member_org.name} withdrew its signature (withdrawn by {signer.get_full_name()})" in page
    assert audit.verify().intact


def test_a_user_who_lost_signing_authority_cannot_sign(statement, signer, member_org):
    signer.organisation_roles.update(can_sign=False)
    with pytest.raises(PermissionDenied):
        sign(statement, signer, member_org)


def test_an_outsider_does_not_see_an_open_statement_for_organisations_only(client, statement):
    client.force_login(UserFactory())
    assert client.get(sign_url(statement)).status_code == 404


# The demo ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_seed_demo_shows_signatures_on_the_open_and_the_published_statement_and_is_idempotent(client, settings):
    from django.core.management import call_command

    settings.DEBUG = True  # as in development: with DEBUG off seed_demo refuses

    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    open_one = Statement.objects.get(slug="states-parties-must-arrest")
    names = set(open_one.signatures.counted().filter(kind="organisation").values_list("organisation__name", flat=True))
    assert names == {"Truth Hounds", "Ukrainian Legal Advisory Group", "The Reckoning Project", "Crimean Human Rights Group"}
    assert open_one.declines.get().organisation.name == "Ukrainian Helsinki Human Rights Union"
    assert open_one.signatures.counted().filter(kind="individual").count() == 3
    assert open_one.signatures.filter(kind="individual", confirmed_at__isnull=True).count() == 1
    page = client.get(open_one.get_absolute_url()).content.decode()
    assert "Halyna Moroz" in page and "Serhii Bondarenko" not in page and "Human Rights Center ZMINA" not in page
    kazan = Statement.objects.get(slug="un-secretary-general-kazan-2024")
    assert kazan.invited_partners.get().organisation.name == "Center for Civil Liberties"
    assert "Center for Civil Liberties" in set(kazan.signatures.values_list("organisation__name", flat=True))
    assert audit.verify().intact


def test_the_admin_shows_signatures_read_only_without_the_token(client, statement, signer, member_org, coordinator):
    sign(statement, signer, member_org)
    coordinator.is_staff = coordinator.is_superuser = True
    coordinator.save()
    client.force_login(coordinator)
    signature = Signature.objects.get()
    page = client.get(reverse("admin:statements_signature_change", args=[signature.pk]))
    assert page.status_code == 200 and "token_hash" not in page.content.decode()
    assert client.post(reverse("admin:statements_signature_delete", args=[signature.pk]), {"post": "yes"}).status_code == 403
    assert Signature.objects.exists()


def test_an_invited_partners_signer_finds_the_statement_on_their_dashboard(client, statement, coordinator):
    partner = OrganisationFactory(name="Center for Civil Liberties")
    # the coalition gave the partner its signer (before inviting it to this statement)
    partner_signer = OrganisationRoleFactory(organisation=partner, coalition=statement.coalition, can_sign=True).user
    client.force_login(partner_signer)
    assert "Free the hostages" not in client.get(reverse("dashboard")).content.decode()
    cosigning.invite_partner(statement, by=coordinator, organisation=partner)
    assert "Free the hostages" in client.get(reverse("dashboard")).content.decode()


def test_a_refused_decline_shows_the_page_again_with_the_reason_as_typed(client, statement, signer, member_org):
    client.force_login(signer)
    reason = "Наша рада ще не зібралася. " * 100  # longer than a reason may be
    response = client.post(reverse("statement_decline", args=[statement.slug]),
                           {"organisation": member_org.slug, "reason": reason})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Наша рада ще не зібралася." in page and "at most 2000 characters" in page
    assert "<details class=\"decline\" open>" in page and not Decline.objects.exists()


def test_a_tampered_organisation_in_the_confirmation_answers_400_with_a_message(client, statement, signer):
    client.force_login(signer)
    response = client.post(sign_url(statement), {"organisation": "no-such-organisation", "sha256": "0" * 64})
    assert response.status_code == 400
    assert "Choose the organisation to sign for, then confirm." in response.content.decode()
