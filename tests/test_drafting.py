"""Drafting a statement together: revisions, conflicts, translations, comments, what each person
sees, and the pages that show them."""

import hashlib
import re
import unicodedata
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from coalition import audit
from coalition.models import AuditEvent
from statements import selectors, services, text
from statements.models import Comment, Revision, Statement
from statements.services import Draft

from .factories import (
    PASSWORD,
    CoordinatorFactory,
    MembershipFactory,
    OrganisationRoleFactory,
    confirmation,
    make_statement,
)
from .helpers import append_only_trigger_dropped

pytestmark = pytest.mark.django_db


def signed_in(client, user):
    client.force_login(user)
    return client


def marked(html: str, tag: str) -> list[str]:
    """The words shown inside <ins> or <del>, without the words only screen readers hear."""
    hidden = re.compile(r'<span class="visually-hidden">[^<]*</span>')
    return [hidden.sub("", inner) for inner in re.findall(rf"<{tag}>(.*?)</{tag}>", html, re.S)]


def edit_data(revision, **changes):
    data = {"title": revision.title, "summary": revision.summary, "body": revision.body, "note": "",
            "based_on": revision.pk, "save": "1"}
    return {**data, **changes}


# Revisions ------------------------------------------------------------------------------------


def test_member_staff_start_a_draft_after_a_preview(client, staff, coalition):
    signed_in(client, staff)
    data = {"coalition": coalition.pk, "language": "uk", "title": "Заява про суд", "summary": "",
            "body": "Перший абзац із **наголосом**.", "preview": "1"}
    preview = client.post(reverse("statement_create"), data)
    assert preview.status_code == 200 and "<strong>наголосом</strong>" in preview.content.decode()
    assert not Statement.objects.exists()
    data.pop("preview")
    response = client.post(reverse("statement_create"), {**data, "save": "1"})
    statement = Statement.objects.get()
    assert response.status_code == 302 and response.url == statement.get_absolute_url()
    assert statement.status == "draft" and statement.primary_language == "uk"
    assert statement.slug == "zaiava-pro-sud" and statement.current_revision.author == staff
    assert audit.events_for(statement).get().action == "statement.created"


def test_an_outsider_cannot_start_a_draft(client, outsider, coalition):
    response = signed_in(client, outsider).get(reverse("statement_create"))
    assert response.status_code == 403


def test_each_save_is_a_new_revision_with_author_note_and_hash_of_the_canonical_text(coalition, staff, signer):
    statement = make_statement(coalition, by=staff, title="Title", body="First text.")
    first = statement.current_revision
    second = services.save_revision(statement, by=signer, based_on=first,
                                    draft=Draft("Title", "Short.", "Second text.", note="Shorter"))
    statement.refresh_from_db()
    assert [r.number for r in statement.revisions.all()] == [1, 2]
    assert statement.current_revision == second and second.based_on == first
    assert second.author == signer and second.note == "Shorter"
    assert second.sha256 == hashlib.sha256("Title\n\nShort.\n\nSecond text.".encode()).hexdigest()
    first.refresh_from_db()
    assert first.body == "First text."


def test_the_canonical_text_ignores_line_endings_trailing_spaces_and_unicode_composition():
    decomposed = unicodedata.normalize("NFD", "Заява їй")
    messy = text.canonical_text(f"  {decomposed}  ", "Summary  \r\n", "Line one   \r\nLine two\t\r\n\r\n")
    assert messy == "Заява їй\n\nSummary\n\nLine one\nLine two"
    assert text.sha256_of(decomposed, "Summary", "Line one\nLine two") == text.sha256_of(
        "Заява їй", "Summary\r\n", "Line one  \r\nLine two")


def test_a_saved_revision_never_changes(coalition, staff):
    revision = make_statement(coalition, by=staff).current_revision
    revision.body = "Rewritten."
    with pytest.raises(ValidationError):
        revision.save()
    assert Revision.objects.get(pk=revision.pk).body == "The text."


def test_saving_the_same_text_again_makes_no_revision(coalition, staff):
    statement = make_statement(coalition, by=staff, title="T", body="Body")
    with pytest.raises(ValidationError, match="Nothing has changed"):
        services.save_revision(statement, by=staff, based_on=statement.current_revision, draft=Draft("T", "", "Body  "))
    assert statement.revisions.count() == 1


# Conflicts ------------------------------------------------------------------------------------


def test_saving_from_an_out_of_date_revision_is_a_conflict_and_saves_nothing(coalition, staff, signer):
    statement = make_statement(coalition, by=staff, body="We call on the states.")
    first = statement.current_revision
    theirs = services.save_revision(statement, by=signer, based_on=first, draft=Draft("A statement", "", "We urge the states."))
    mine = Draft("A statement", "", "We call on all states.")
    with pytest.raises(services.EditConflict) as conflict:
        services.save_revision(statement, by=staff, based_on=first, draft=mine)
    assert conflict.value.base == first and conflict.value.latest == theirs and conflict.value.mine == mine
    assert statement.revisions.count() == 2
    assert audit.events_for(statement).filter(action="statement.edited").count() == 1


def test_the_conflict_page_shows_what_changed_and_keeps_my_text_to_merge(client, coalition, staff, signer):
    statement = make_statement(coalition, by=staff, body="We call on the states.")
    first = statement.current_revision
    services.save_revision(statement, by=signer, based_on=first, draft=Draft("A statement", "", "We urge the states."))
    signed_in(client, staff)
    url = reverse("statement_edit", args=[statement.slug])
    response = client.post(url, edit_data(first, body="We call on all the states, without delay."))
    page = response.content.decode()
    assert response.status_code == 409
    assert "Someone saved while you were editing" in page
    assert "call on" in marked(page, "del") and "urge" in marked(page, "ins")
    assert "urge" in page and "without delay." in page  # their words in the diff, mine in the form
    latest = statement.revisions.get(number=2)
    assert f'name="based_on" value="{latest.pk}"' in page
    merged = client.post(url, edit_data(latest, body="We urge all the states, without delay."))
    assert merged.status_code == 302
    assert statement.revisions.count() == 3


def test_an_edit_with_a_missing_title_comes_back_with_the_text_kept(client, coalition, staff):
    statement = make_statement(coalition, by=staff)
    signed_in(client, staff)
    response = client.post(reverse("statement_edit", args=[statement.slug]),
                           edit_data(statement.current_revision, title="", body="My careful new wording."))
    assert response.status_code == 400 and "My careful new wording." in response.content.decode()
    assert statement.revisions.count() == 1


def test_preview_while_editing_renders_the_text_and_saves_nothing(client, coalition, staff):
    statement = make_statement(coalition, by=staff)
    signed_in(client, staff)
    data = edit_data(statement.current_revision, body="- first\n- second")
    data.pop("save")
    response = client.post(reverse("statement_edit", args=[statement.slug]), {**data, "preview": "1"})
    assert response.status_code == 200 and "<li>first</li>" in response.content.decode()
    assert statement.revisions.count() == 1


# Translations ---------------------------------------------------------------------------------


def test_a_translation_is_flagged_out_of_date_when_the_original_changes(client, coalition, staff):
    statement = make_statement(coalition, by=staff, title="Statement", body="Original text.")
    original = statement.current_revision
    signed_in(client, staff)
    url = reverse("statement_translate", args=[statement.slug, "uk"])
    response = client.post(url, {"title": "Заява", "summary": "", "body": "Оригінальний текст.", "note": "",
                                 "based_on": "", "translation_of": original.pk, "save": "1"})
    assert response.status_code == 302
    translation = statement.revisions.get(language="uk")
    assert translation.translation_of == original
    assert [t.out_of_date for t in selectors.translations(statement)] == [False]
    services.save_revision(statement, by=staff, based_on=original, draft=Draft("Statement", "", "Changed original text."))
    statement.refresh_from_db()
    assert [t.out_of_date for t in selectors.translations(statement)] == [True]
    page = client.get(statement.get_absolute_url() + "?lang=uk").content.decode()
    assert "Оригінальний текст." in page and "out of date" in page
    translate_page = client.get(url).content.decode()
    assert "The original changed since this translation" in translate_page and "<ins>" in translate_page


def test_a_second_translator_working_from_an_older_translation_gets_a_conflict(coalition, staff, signer):
    statement = make_statement(coalition, by=staff)
    original = statement.current_revision
    services.add_translation(statement, by=signer, language="uk", based_on=None, translation_of=original,
                             draft=Draft("Заява", "", "Текст."))
    with pytest.raises(services.EditConflict):
        services.add_translation(statement, by=staff, language="uk", based_on=None, translation_of=original,
                                 draft=Draft("Заява", "", "Інший текст."))


def test_a_translation_in_the_original_language_is_refused(coalition, staff):
    statement = make_statement(coalition, by=staff)
    with pytest.raises(ValidationError):
        services.add_translation(statement, by=staff, language="en", based_on=None,
                                 translation_of=statement.current_revision, draft=Draft("T", "", "B"))


# Comments -------------------------------------------------------------------------------------


def test_member_staff_comment_on_the_revision_they_read_and_coordinators_resolve(client, coalition, staff, coordinator):
    statement = make_statement(coalition, by=staff)
    revision = statement.current_revision
    signed_in(client, staff)
    response = client.post(reverse("comment_add", args=[statement.slug]),
                           {"body": "Name the court in the title.", "revision": revision.pk})
    comment = Comment.objects.get()
    assert response.status_code == 302 and comment.revision == revision and comment.author == staff
    resolve = reverse("comment_resolve", args=[statement.slug, comment.pk])
    assert client.post(resolve).status_code == 403
    signed_in(client, coordinator)
    assert client.post(resolve).status_code == 302
    comment.refresh_from_db()
    assert comment.resolved_by == coordinator and comment.is_resolved
    assert "resolved" in client.get(statement.get_absolute_url()).content.decode()


def test_an_empty_comment_comes_back_with_a_message(client, coalition, staff):
    statement = make_statement(coalition, by=staff)
    response = signed_in(client, staff).post(reverse("comment_add", args=[statement.slug]),
                                             {"body": "", "revision": statement.current_revision.pk})
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    assert not Comment.objects.exists()


def test_comments_are_closed_once_the_statement_is_open(client, coalition, staff, coordinator):
    statement = make_statement(coalition, by=staff, coordinator=coordinator, status="open")
    response = signed_in(client, staff).post(reverse("comment_add", args=[statement.slug]),
                                             {"body": "Late.", "revision": statement.current_revision.pk})
    assert response.status_code == 403 and not Comment.objects.exists()


# Sanitising -----------------------------------------------------------------------------------


class ActiveMarkup(HTMLParser):
    """Collects what a browser would run: script elements, on* handlers, javascript: URLs."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.found.append("<script>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{name}=")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"{name}={value}")


def active_markup(html: str) -> list[str]:
    parser = ActiveMarkup()
    parser.feed(html)
    return parser.found


HOSTILE_BODY = """Plain words.

<script>alert('body')</script>

<img src="x" onerror="alert('img')">

[a link](javascript:alert('link')) and <a href="javascript:alert(1)" onclick="alert(2)">another</a>
"""


def test_scripts_handlers_and_javascript_links_come_out_inert_in_the_page(client, coalition, staff):
    statement = make_statement(coalition, by=staff, title="<script>alert('title')</script> Title",
                               summary='<img src=x onerror="alert(3)">', body=HOSTILE_BODY)
    services.add_comment(statement, by=staff, body='<script>alert("comment")</script><img src=x onerror=alert(4)>')
    page = signed_in(client, staff).get(statement.get_absolute_url()).content.decode()
    assert "Plain words." in page and "&lt;script&gt;alert(&#x27;title&#x27;)" in page
    assert active_markup(page) == []
    stored = statement.current_revision.body_html
    assert "<script" not in stored and "onerror" not in stored and "javascript:" not in stored


def test_an_unclosed_style_or_script_tag_hides_no_words(client, coalition, staff):
    body = "First paragraph.\n\n<style>p { display: none }\n\nThe words after it.\n\n<script>var x = 1"
    statement = make_statement(coalition, by=staff, body=body)
    page = signed_in(client, staff).get(statement.get_absolute_url()).content.decode()
    assert "First paragraph." in page and "The words after it." in page and "var x = 1" in page
    assert active_markup(page) == []
    stored = statement.current_revision.body_html
    assert "<style" not in stored and "<script" not in stored


def test_the_preview_is_sanitised_too(client, coalition, staff):
    statement = make_statement(coalition, by=staff)
    data = edit_data(statement.current_revision, body=HOSTILE_BODY)
    data.pop("save")
    page = signed_in(client, staff).post(reverse("statement_edit", args=[statement.slug]),
                                         {**data, "preview": "1"}).content.decode()
    assert active_markup(page) == []


# Who sees what --------------------------------------------------------------------------------


def _outsiders(coalition):
    other = MembershipFactory()
    former = MembershipFactory(coalition=coalition, joined=date(2022, 1, 1), left=date(2023, 1, 1))
    return {
        "outsider": OrganisationRoleFactory().user,
        "staff of another coalition": OrganisationRoleFactory(organisation=other.organisation).user,
        "coordinator of another coalition": CoordinatorFactory(coalition=other.coalition).user,
        "staff of a former member": OrganisationRoleFactory(organisation=former.organisation).user,
    }


@pytest.mark.parametrize("state", ["draft", "open", "closed"])
def test_unpublished_statements_are_a_404_for_anyone_outside_the_coalition(client, coalition, staff, coordinator, state):
    statement = make_statement(coalition, by=staff, coordinator=coordinator, status=state)
    if state == "draft":
        services.add_comment(statement, by=staff, body="Secret remark.")
    urls = [statement.get_absolute_url(), reverse("statement_history", args=[statement.slug]),
            reverse("statement_diff", args=[statement.slug]), reverse("statement_edit", args=[statement.slug]),
            reverse("statement_events", args=[statement.slug])]
    for url in urls:
        assert client.get(url).status_code == 404, url
    for who, user in _outsiders(coalition).items():
        signed_in(client, user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 404, (who, url)
            assert "Secret remark." not in response.content.decode()
        assert client.post(reverse("comment_add", args=[statement.slug]), {"body": "x"}).status_code == 404
    assert signed_in(client, staff).get(statement.get_absolute_url()).status_code == 200


def test_published_and_withdrawn_statements_are_public_but_their_drafting_is_not(client, coalition, staff, coordinator):
    published = make_statement(coalition, by=staff, coordinator=coordinator, status="published", body="Public words.")
    services.withdraw(published, by=coordinator, reason="The facts changed.")
    page = client.get(published.get_absolute_url())
    assert page.status_code == 200
    assert "Public words." in page.content.decode() and "The facts changed." in page.content.decode()
    assert "Withdrawn" in page.content.decode()
    assert client.get(reverse("statement_history", args=[published.slug])).status_code == 404


def test_a_statement_withdrawn_before_publication_stays_private(client, coalition, staff, coordinator):
    statement = make_statement(coalition, by=staff, coordinator=coordinator, status="withdrawn", body="Internal.")
    assert client.get(statement.get_absolute_url()).status_code == 404
    page = signed_in(client, staff).get(statement.get_absolute_url()).content.decode()
    assert "Internal." in page and "No longer needed." in page


def test_the_statement_list_shows_only_published_statements(client, coalition, staff, coordinator):
    make_statement(coalition, by=staff, coordinator=coordinator, status="published", title="Out in the open")
    make_statement(coalition, by=staff, title="Still a draft")
    make_statement(coalition, by=staff, coordinator=coordinator, status="withdrawn", title="Withdrawn unpublished")
    page = client.get(reverse("statement_list")).content.decode()
    assert "Out in the open" in page and "Still a draft" not in page and "Withdrawn unpublished" not in page


# History, differences, events -----------------------------------------------------------------


def test_history_lists_every_revision_and_the_diff_shows_changed_cyrillic_words(client, coalition, staff):
    statement = make_statement(coalition, by=staff, title="Заява", body="Ми закликаємо державу діяти.", language="uk")
    services.save_revision(statement, by=staff, based_on=statement.current_revision,
                           draft=Draft("Заява", "", "Ми вимагаємо від держави діяти негайно.", note="Сильніше"))
    signed_in(client, staff)
    history = client.get(reverse("statement_history", args=[statement.slug])).content.decode()
    assert "Revision 1" in history and "Revision 2" in history and "Сильніше" in history
    diff = client.get(reverse("statement_diff", args=[statement.slug]), {"old": 1, "new": 2}).content.decode()
    assert "закликаємо державу" in marked(diff, "del")
    assert "вимагаємо від держави" in marked(diff, "ins") and " негайно" in marked(diff, "ins")


def test_a_diff_of_unknown_or_malformed_revisions_is_a_clear_4xx(client, coalition, staff):
    statement = make_statement(coalition, by=staff)
    signed_in(client, staff)
    url = reverse("statement_diff", args=[statement.slug])
    assert client.get(url, {"old": "abc", "new": 1}).status_code == 400
    assert client.get(url, {"old": 1, "new": 99}).status_code == 404


def test_coordinators_see_the_statements_events_and_others_do_not(client, coalition, staff, coordinator):
    statement = make_statement(coalition, by=staff, coordinator=coordinator, status="open")
    url = reverse("statement_events", args=[statement.slug])
    assert signed_in(client, staff).get(url).status_code == 403
    page = signed_in(client, coordinator).get(url).content.decode()
    assert "started the draft: revision 1" in page and "for signature" in page
    assert "statement.created" not in page and "statement.opened" not in page


# Coordinator actions through the pages ---------------------------------------------------------


def test_a_coordinator_opens_closes_publishes_and_withdraws_through_the_page(client, coalition, staff, coordinator):
    statement = make_statement(coalition, by=staff)
    signed_in(client, coordinator)
    deadline = (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    assert client.post(reverse("statement_open", args=[statement.slug]),
                       {"deadline": deadline, **confirmation(statement, "open")}).status_code == 302
    statement.refresh_from_db()
    assert statement.status == "open" and statement.deadline is not None
    assert statement.signed_revision == statement.current_revision
    assert client.post(reverse("statement_close", args=[statement.slug]), confirmation(statement, "close")).status_code == 302
    assert client.post(reverse("statement_publish", args=[statement.slug]),
                       confirmation(statement, "publish")).status_code == 302
    empty = client.post(reverse("statement_withdraw", args=[statement.slug]),
                        {"reason": "", **confirmation(statement, "withdraw")})
    assert empty.status_code == 400
    assert client.post(reverse("statement_withdraw", args=[statement.slug]),
                       {"reason": "Wrong date.", **confirmation(statement, "withdraw")}).status_code == 302
    statement.refresh_from_db()
    assert statement.status == "withdrawn" and statement.withdrawal_reason == "Wrong date."


def test_member_staff_cannot_open_a_statement_and_a_get_changes_nothing(client, coalition, staff, coordinator):
    statement = make_statement(coalition, by=staff)
    signed_in(client, staff)
    assert client.post(reverse("statement_open", args=[statement.slug]), {"deadline": ""}).status_code == 403
    signed_in(client, coordinator)
    assert client.get(reverse("statement_open", args=[statement.slug])).status_code == 405
    statement.refresh_from_db()
    assert statement.status == "draft"


def test_closing_a_draft_is_refused_with_a_message(client, coalition, staff, coordinator):
    statement = make_statement(coalition, by=staff)
    response = signed_in(client, coordinator).post(reverse("statement_close", args=[statement.slug]),
                                                   confirmation(statement, "close"))
    assert response.status_code == 400 and "cannot be moved on" in response.content.decode()
    statement.refresh_from_db()
    assert statement.status == "draft"


def test_an_opening_deadline_in_the_past_comes_back_on_the_page(client, coalition, staff, coordinator):
    statement = make_statement(coalition, by=staff)
    past = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = signed_in(client, coordinator).post(reverse("statement_open", args=[statement.slug]),
                                                   {"deadline": past, **confirmation(statement, "open")})
    assert response.status_code == 400 and "must be in the future" in response.content.decode()


def test_the_coordinator_decides_at_opening_whether_individuals_may_sign(client, coalition, staff, coordinator):
    statement = make_statement(coalition, by=staff)
    assert not statement.allows_individuals
    signed_in(client, coordinator)
    page = client.get(statement.get_absolute_url()).content.decode()
    assert "Who may sign" in page and re.search(r'value="organisations"[^>]*checked', page)
    client.post(reverse("statement_open", args=[statement.slug]),
                {"deadline": "", "who_may_sign": "individuals", **confirmation(statement, "open")})
    statement.refresh_from_db()
    assert statement.status == "open" and statement.allows_individuals
    event = audit.events_for(statement).get(action="statement.opened")
    assert event.data["allows_individuals"] is True
    client.logout()
    assert "Sign as an individual" in client.get(reverse("statement_sign", args=[statement.slug])).content.decode()


def test_opening_without_the_choice_keeps_the_drafters_and_a_bad_choice_is_refused(client, coalition, staff, coordinator):
    statement = make_statement(coalition, by=staff)
    Statement.objects.filter(pk=statement.pk).update(allows_individuals=True)
    signed_in(client, coordinator)
    bad = client.post(reverse("statement_open", args=[statement.slug]),
                      {"deadline": "", "who_may_sign": "robots", **confirmation(statement, "open")})
    assert bad.status_code == 400 and "Select a valid choice" in bad.content.decode()
    statement.refresh_from_db()
    assert statement.status == "draft"
    client.post(reverse("statement_open", args=[statement.slug]), {"deadline": "", **confirmation(statement, "open")})
    statement.refresh_from_db()
    assert statement.status == "open" and statement.allows_individuals


# Dashboard ------------------------------------------------------------------------------------


def test_the_dashboard_shows_my_drafts_what_my_organisations_may_sign_and_what_waits_on_coordinators(
        client, coalition, staff, signer, coordinator):
    make_statement(coalition, by=staff, title="My own draft")
    make_statement(coalition, by=signer, title="A colleague's draft")
    make_statement(coalition, by=signer, coordinator=coordinator, status="open", title="Open for signing")
    make_statement(coalition, by=signer, coordinator=coordinator, status="closed", title="Closed, to publish")
    page = signed_in(client, staff).get(reverse("dashboard")).content.decode()
    assert "My own draft" in page and "A colleague&#x27;s draft" in page and "Open for signing" in page
    assert "Open for signature in my coalitions" not in page
    page = signed_in(client, coordinator).get(reverse("dashboard")).content.decode()
    assert "Open for signature in my coalitions" in page and "Closed, waiting to be published" in page and "Closed, to publish" in page


def test_the_dashboard_asks_a_visitor_to_sign_in(client):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302 and "/accounts/login/" in response.url


# The audit log --------------------------------------------------------------------------------


def test_verify_audit_finds_a_drafting_event_altered_directly_in_the_database(coalition, staff, signer, coordinator):
    statement = make_statement(coalition, by=staff)
    services.save_revision(statement, by=signer, based_on=statement.current_revision, draft=Draft("T", "", "New."))
    services.add_comment(statement, by=staff, body="Fine by me.")
    services.open_for_signature(statement, by=coordinator, deadline=None)
    call_command("verify_audit")
    edited = audit.events_for(statement).get(action="statement.edited")
    with append_only_trigger_dropped(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {AuditEvent._meta.db_table} SET data = %s WHERE id = %s",
                       ['{"revision": 1}', edited.pk])
    with pytest.raises(CommandError, match=f"chain broken at event {edited.pk}"):
        call_command("verify_audit")


# The demo -------------------------------------------------------------------------------------


@pytest.fixture
def seeded(capsys, settings):
    settings.DEBUG = True  # as in development: with DEBUG off seed_demo refuses
    call_command("seed_demo")
    return capsys.readouterr().out


def test_the_demo_has_a_statement_in_every_state(seeded):
    assert set(Statement.objects.values_list("status", flat=True)) == set(Statement.Status.values)
    assert "/statements/un-secretary-general-kazan-2024/" in seeded
    assert Comment.objects.filter(statement__status="draft").count() >= 2
    assert Statement.objects.get(status="open").deadline > timezone.now()
    assert audit.verify().intact


def test_the_demo_kazan_statement_is_in_english_and_ukrainian_and_its_diff_shows_the_changed_words(seeded, client):
    from coalition.models import User

    statement = Statement.objects.get(slug="un-secretary-general-kazan-2024")
    assert statement.status == "published" and statement.revisions.filter(language="en").count() >= 2
    assert statement.revisions.filter(language="uk", translation_of=statement.current_revision).exists()
    assert "Kazan" in statement.current_revision.title
    signed_in(client, User.objects.get(email="drafter@example.org"))
    diff = client.get(reverse("statement_diff", args=[statement.slug]), {"old": 1, "new": 2}).content.decode()
    assert "weakens" in marked(diff, "del") and "undermines" in marked(diff, "ins")
    assert "believe" in marked(diff, "del") and "are convinced" in marked(diff, "ins")
    public = client.get(statement.get_absolute_url() + "?lang=uk").content.decode()
    assert "Казані" in public


def test_seeding_the_demo_twice_adds_no_statement_revision_or_event(seeded):
    counts = (Statement.objects.count(), Revision.objects.count(), Comment.objects.count(), AuditEvent.objects.count())
    call_command("seed_demo")
    assert (Statement.objects.count(), Revision.objects.count(), Comment.objects.count(),
            AuditEvent.objects.count()) == counts
