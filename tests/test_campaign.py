"""A campaign people can find, share and embed (issue 16): open statements on the front page and
in the archive, the share links, Open Graph tags, the preview image and the embed page."""

import io
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from coalition import origins
from coalition.models import AuditEvent
from statements import campaign
from statements.models import Signature

from .factories import make_statement

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign_statement(coalition, coordinator):
    statement = make_statement(coalition, by=coordinator, status="open", allows_individuals=True,
                               title="Free the journalists & “others”", summary="Sign with us.")
    statement.deadline = timezone.now() + timedelta(days=3)
    statement.save(update_fields=["deadline"])
    return statement


def add_signatures(statement, n: int, *, start: int = 0) -> None:
    Signature.objects.bulk_create([
        Signature(statement=statement, revision=statement.signed_revision, kind=Signature.Kind.INDIVIDUAL,
                  name=f"Person {i}", email=f"person{i}@example.org", confirmed_at=timezone.now())
        for i in range(start, start + n)])


# Finding open statements ---------------------------------------------------------------------

def test_front_page_lists_an_open_statement_with_its_count_and_deadline(client, campaign_statement):
    add_signatures(campaign_statement, 3)
    Signature.objects.bulk_create([Signature(  # unconfirmed: not counted
        statement=campaign_statement, revision=campaign_statement.signed_revision, kind=Signature.Kind.INDIVIDUAL,
        name="Later", email="later@example.org")])
    page = client.get("/").content.decode()
    assert "Open for signature" in page and "Free the journalists &amp; “others”" in page
    assert "3 signatures" in page
    assert "signing until" in page and campaign_statement.deadline.astimezone().strftime("%Y") in page
    assert reverse("statement_sign", args=[campaign_statement.slug]) + "#individual" in page


def test_statements_not_open_to_individuals_or_past_their_deadline_are_not_listed(client, coalition, coordinator):
    make_statement(coalition, by=coordinator, status="open", title="Members only")
    make_statement(coalition, by=coordinator, status="draft", allows_individuals=True, title="Still a draft")
    late = make_statement(coalition, by=coordinator, status="open", allows_individuals=True, title="Too late")
    late.deadline = timezone.now() - timedelta(minutes=1)
    late.save(update_fields=["deadline"])
    page = client.get("/").content.decode()
    assert "Members only" not in page and "Still a draft" not in page and "Too late" not in page
    assert 'id="open-heading"' not in page


def test_archive_filters_by_status_and_keeps_its_other_filters(client, coalition, coordinator, campaign_statement):
    make_statement(coalition, by=coordinator, status="published", title="Already out")
    everything = client.get(reverse("statement_list")).content.decode()
    assert "Free the journalists" in everything and "Already out" in everything
    only_open = client.get(reverse("statement_list") + "?status=open").content.decode()
    assert "Free the journalists" in only_open and "Already out" not in only_open
    published = client.get(reverse("statement_list") + "?status=published").content.decode()
    assert "Free the journalists" not in published and "Already out" in published
    searched = client.get(reverse("statement_list") + "?q=out").content.decode()
    assert "Already out" in searched and 'id="open-heading"' not in searched


def test_a_new_signature_shows_on_the_stored_front_page(client, campaign_statement):
    assert "0 signatures" in client.get("/").content.decode()
    add_signatures(campaign_statement, 1)
    Signature.objects.filter(statement=campaign_statement).first().save()  # as confirming does
    assert "1 signature" in client.get("/").content.decode()


def test_opening_a_statement_to_individuals_shows_it_on_the_stored_front_page(client, coalition, coordinator):
    client.get("/")
    make_statement(coalition, by=coordinator, status="open", allows_individuals=True, title="Just opened")
    assert "Just opened" in client.get("/").content.decode()


# Sharing -------------------------------------------------------------------------------------

def test_share_links_are_url_encoded():
    url, title = "https://statements.example/statements/free/", "Free them & now?"
    links = {link.name: link.url for link in campaign.share_links(url, title)}
    telegram = parse_qs(urlsplit(links["Telegram"]).query)
    assert links["Telegram"].startswith("https://t.me/share/url?") and telegram == {"url": [url], "text": [title]}
    assert parse_qs(urlsplit(links["X"]).query) == {"url": [url], "text": [title]}
    assert links["X"].startswith("https://x.com/intent/post?")
    assert parse_qs(urlsplit(links["Facebook"]).query) == {"u": [url]}
    assert parse_qs(urlsplit(links["WhatsApp"]).query) == {"text": [f"{title} {url}"]}
    assert "&now" not in links["X"] and " " not in "".join(links.values())
    mail = campaign.email_link(url, title)
    assert mail.startswith("mailto:?subject=Free%20them%20%26%20now%3F&body=") and "+" not in mail


def test_the_statement_page_of_an_open_statement_offers_sharing(client, campaign_statement):
    page = client.get(campaign_statement.get_absolute_url()).content.decode()
    assert 'id="share-heading"' in page and 'readonly value="http' in page
    assert "https://t.me/share/url?url=" in page and "https://wa.me/?text=" in page
    assert "Signal has no share link" in page and "js/share.js" in page
    assert "<script>" not in page  # no inline script (CSP)


def test_confirming_an_individual_signature_leads_to_the_share_step(client, campaign_statement):
    from .helpers import sign_and_get_link

    link = sign_and_get_link(client, campaign_statement)
    page = client.post(link, {"sha256": campaign_statement.signed_revision.sha256}).content.decode()
    assert Signature.objects.get().confirmed_at
    assert 'id="share-heading"' in page and "https://t.me/share/url" in page


def test_signing_for_an_organisation_leads_to_the_share_step(client, campaign_statement, signer, member_org):
    client.force_login(signer)
    client.post(reverse("statement_sign", args=[campaign_statement.slug]),
                {"organisation": member_org.slug, "sha256": campaign_statement.signed_revision.sha256})
    page = client.get(reverse("statement_sign", args=[campaign_statement.slug])).content.decode()
    assert 'id="share-heading"' in page


def test_no_share_step_for_a_statement_the_public_cannot_read(client, coalition, coordinator, signer, member_org):
    members_only = make_statement(coalition, by=coordinator, status="open", title="Members only")
    client.force_login(signer)
    client.post(reverse("statement_sign", args=[members_only.slug]),
                {"organisation": member_org.slug, "sha256": members_only.signed_revision.sha256})
    assert Signature.objects.filter(statement=members_only).exists()
    page = client.get(reverse("statement_sign", args=[members_only.slug])).content.decode()
    assert 'id="share-heading"' not in page and "t.me/share" not in page


# Open Graph and the preview image ------------------------------------------------------------

def test_open_and_published_statements_have_open_graph_and_twitter_tags(client, coalition, coordinator,
                                                                       campaign_statement):
    published = make_statement(coalition, by=coordinator, status="published", title="Out now")
    for statement in (campaign_statement, published):
        page = client.get(statement.get_absolute_url()).content.decode()
        image = reverse("statement_preview", args=[statement.slug, "en"])
        assert f'<meta property="og:image" content="http' in page and image in page
        assert '<meta name="twitter:card" content="summary_large_image">' in page
        assert 'property="og:title"' in page


def preview(client, statement, language="en"):
    response = client.get(reverse("statement_preview", args=[statement.slug, language]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert "max-age" in response["Cache-Control"]
    return response.content


def test_the_preview_is_a_1200_by_630_png(client, campaign_statement):
    image = Image.open(io.BytesIO(preview(client, campaign_statement)))
    assert image.format == "PNG" and image.size == (1200, 630)


def test_the_preview_shows_the_title(client, coalition, coordinator):
    one = make_statement(coalition, by=coordinator, status="open", allows_individuals=True, title="Заява про полонених")
    other = make_statement(coalition, by=coordinator, status="open", allows_individuals=True, title="Another title")
    assert preview(client, one) != preview(client, other)


def test_the_preview_is_made_again_only_when_the_count_passes_a_step(client, campaign_statement):
    add_signatures(campaign_statement, 10)
    ten = preview(client, campaign_statement)
    add_signatures(campaign_statement, 5, start=10)
    assert preview(client, campaign_statement) == ten  # 15: still the step of 10
    add_signatures(campaign_statement, 5, start=15)
    assert preview(client, campaign_statement) != ten  # 20: the next step


@pytest.mark.parametrize("count, step", [(0, 0), (1, 1), (2, 2), (4, 2), (5, 5), (9, 5), (10, 10), (19, 10),
                                         (20, 20), (99, 50), (100, 100), (1234, 1000), (25_000, 20_000)])
def test_count_steps(count, step):
    assert campaign.count_step(count) == step


def test_no_preview_for_drafts_statements_for_members_or_unknown_languages(client, coalition, coordinator, signer,
                                                                           campaign_statement):
    draft = make_statement(coalition, by=coordinator, title="Draft")
    members_only = make_statement(coalition, by=coordinator, status="open", title="Members")
    client.force_login(signer)  # even someone who may read them
    for statement in (draft, members_only):
        assert client.get(reverse("statement_preview", args=[statement.slug, "en"])).status_code == 404
    assert client.get(reverse("statement_preview", args=[campaign_statement.slug, "xx"])).status_code == 404


# Embedding -----------------------------------------------------------------------------------

def test_the_embed_page_may_be_framed_only_by_the_coalitions_origins(client, coalition, campaign_statement):
    coalition.embed_origins = ["https://ngo.example", "http://localhost:8123"]
    coalition.save()
    response = client.get(reverse("statement_embed", args=[campaign_statement.slug]))
    assert response.status_code == 200 and "X-Frame-Options" not in response
    assert "frame-ancestors 'self' https://ngo.example http://localhost:8123" in response["Content-Security-Policy"]
    page = response.content.decode()
    assert "Free the journalists" in page and "0 signatures" in page and 'target="_blank"' in page
    again = client.get(reverse("statement_embed", args=[campaign_statement.slug]))  # the stored copy
    assert "X-Frame-Options" not in again and "https://ngo.example" in again["Content-Security-Policy"]


def test_another_coalitions_embed_page_and_every_other_page_stay_unframeable(client, coalition, coordinator,
                                                                           campaign_statement):
    from .factories import CoalitionFactory, CoordinatorFactory

    other = CoalitionFactory()
    other_statement = make_statement(other, by=CoordinatorFactory(coalition=other).user, status="open",
                                     allows_individuals=True)
    coalition.embed_origins = ["https://ngo.example"]
    coalition.save()
    response = client.get(reverse("statement_embed", args=[other_statement.slug]))
    assert "frame-ancestors 'self'" in response["Content-Security-Policy"]
    assert "ngo.example" not in response["Content-Security-Policy"]
    page = client.get(campaign_statement.get_absolute_url())
    assert page["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in page["Content-Security-Policy"]


def test_embed_page_is_not_found_for_a_draft(client, coalition, coordinator):
    draft = make_statement(coalition, by=coordinator, title="Draft")
    assert client.get(reverse("statement_embed", args=[draft.slug])).status_code == 404


def test_the_statement_page_gives_coordinators_the_snippet(client, coordinator, campaign_statement):
    client.force_login(coordinator)
    page = client.get(campaign_statement.get_absolute_url()).content.decode()
    assert "&lt;iframe src=&quot;http" in page and "/embed/&quot;" in page and 'loading=&quot;lazy&quot;' in page


@pytest.mark.parametrize("value, expected", [
    ("https://ngo.example", "https://ngo.example"), ("https://NGO.example:8443/", "https://ngo.example:8443"),
    ("http://localhost:8000", "http://localhost:8000"), ("http://127.0.0.1", "http://127.0.0.1")])
def test_origins_are_cleaned(value, expected):
    assert origins.clean_origin(value) == expected


@pytest.mark.parametrize("value", ["http://ngo.example", "https://ngo.example/page", "ngo.example", "https://",
                                   "https://ngo.example?x=1", "javascript:alert(1)", "https://a.example 'unsafe-inline'",
                                   "https://*.example", "https://user@ngo.example", "https://ngo.example:99999"])
def test_bad_origins_are_refused(value):
    with pytest.raises(ValidationError):
        origins.clean_origin(value)


def test_coordinators_set_the_origins_and_it_is_audited(client, coalition, coordinator):
    client.force_login(coordinator)
    url = reverse("coalition_embedding", args=[coalition.slug])
    assert client.get(url).status_code == 200
    response = client.post(url, {"origins": "https://ngo.example\n\nhttps://ngo.example/\nhttp://localhost:9000"})
    assert response.status_code == 302
    coalition.refresh_from_db()
    assert coalition.embed_origins == ["https://ngo.example", "http://localhost:9000"]
    event = AuditEvent.objects.filter(action="coalition.embed_origins_changed").get()
    assert event.data["after"] == coalition.embed_origins


def test_a_bad_origin_is_a_400_with_the_message(client, coalition, coordinator):
    client.force_login(coordinator)
    response = client.post(reverse("coalition_embedding", args=[coalition.slug]),
                           {"origins": "https://ngo.example\nhttp://insecure.example"})
    assert response.status_code == 400
    assert "must use https" in response.content.decode()
    coalition.refresh_from_db()
    assert coalition.embed_origins == []


def test_only_coordinators_set_the_origins(client, coalition, signer):
    url = reverse("coalition_embedding", args=[coalition.slug])
    assert client.get(url).status_code == 302  # to sign in
    client.force_login(signer)
    assert client.post(url, {"origins": "https://evil.example"}).status_code == 404
    coalition.refresh_from_db()
    assert coalition.embed_origins == []
