"""A coalition's identity (coalition/look.py): its logo and accent colour, set by its coordinators,
shown on its pages, emails and PDFs; and the site's own web fonts."""

import io
import re
from pathlib import Path

import pikepdf
import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from coalition import look, outbox, services
from coalition.models import AuditEvent
from statements import pdf

from . import factories
from .helpers import LOGO, make_document

pytestmark = pytest.mark.django_db

HOSTILE = b"""<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10"
     onload="alert('onload')">
  <script>alert('script')</script>
  <a xlink:href="javascript:alert('href')"><rect width="5" height="5" onclick="alert('click')"/></a>
  <a href="javascript:alert('href2')"><circle r="2"/></a>
  <image href="https://evil.example/track.png" width="1" height="1"/>
  <image xlink:href="//evil.example/track2.png" width="1" height="1"/>
  <use href="https://evil.example/sprite.svg#x"/>
  <foreignObject><div xmlns="http://www.w3.org/1999/xhtml" onmouseover="alert('fo')">x</div></foreignObject>
  <circle cx="5" cy="5" r="3" fill="#123456" style="fill: url(https://evil.example/p)"/>
</svg>"""


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def png(width=20, height=10, colour=(200, 0, 0)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def upload(data: bytes, name: str = "logo.svg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def look_url(coalition) -> str:
    return reverse("coalition_look", args=[coalition.slug])


def save_look(client, coalition, *, data: bytes | None = None, name="logo.svg", accent="", **more):
    fields = {"accent": accent, **more}
    if data is not None:
        fields["logo"] = upload(data, name)
    return client.post(look_url(coalition), fields)


# The SVG sanitiser ---------------------------------------------------------------------------

def test_a_hostile_svg_keeps_its_drawing_and_loses_everything_that_runs_or_reaches_out():
    clean = look.sanitise_svg(HOSTILE).decode()
    for gone in ["<script", "alert", "onload", "onclick", "onmouseover", "javascript:", "foreignObject",
                 "evil.example", "<image", "xhtml"]:
        assert gone not in clean, gone
    assert "<circle" in clean and "#123456" in clean and "<rect" in clean


@pytest.mark.parametrize("data", [
    b"<html><body>not an svg</body></html>",
    b"<svg xmlns='http://www.w3.org/2000/svg'><unclosed></svg>",
    b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
    b'<svg xmlns="http://www.w3.org/2000/svg"><text>&b;&b;&b;</text></svg>',
])
def test_what_is_not_a_clean_svg_is_refused_or_left_harmless(data):
    try:
        clean = look.sanitise_svg(data)
    except ValidationError:
        return
    assert b"<html" not in clean and b"ENTITY" not in clean and b"aaaaaaaaaa" not in clean


def test_raster_images_inside_an_svg_are_dropped_whatever_their_address():
    for href in [b"data:image/png;base64,iVBORw0KGgo=", b"/media/x.png", b"x.png", b"file:///etc/passwd"]:
        inner = b'<svg xmlns="http://www.w3.org/2000/svg"><image href="' + href + b'" width="1" height="1"/></svg>'
        assert b"<image" not in look.sanitise_svg(inner)


# Accent colour -------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [("#0B4F8A", "#0b4f8a"), ("7a1f3d", "#7a1f3d"), ("#036", "#003366"), ("", "")])
def test_accent_colours_are_normalised(value, expected):
    assert look.clean_accent(value) == expected


@pytest.mark.parametrize("value", ["blue", "#12345", "#gggggg", "rgb(0,0,0)", "#0b4f8a; background: url(x)"])
def test_accent_that_is_not_a_hex_colour_is_refused(value):
    with pytest.raises(ValidationError, match="hex code"):
        look.clean_accent(value)


def test_a_light_accent_is_refused_with_a_darker_shade_that_passes():
    with pytest.raises(ValidationError) as refused:
        look.clean_accent("#ffcc00")
    message = refused.value.messages[0]
    assert "4.5:1" in message and "1.5:1" in message
    shade = re.search(r"such as (#[0-9a-f]{6})", message).group(1)
    assert look.contrast_with_white(shade) >= 4.5 and look.clean_accent(shade) == shade


def test_contrast_is_the_wcag_ratio():
    assert look.contrast_with_white("#000000") == pytest.approx(21.0)
    assert look.contrast_with_white("#ffffff") == pytest.approx(1.0)
    assert look.contrast_with_white("#767676") == pytest.approx(4.54, abs=0.01)


# The coordinators' page ----------------------------------------------------------------------

def test_a_coordinator_sets_an_svg_logo_and_an_accent_and_it_is_audited(client, coalition, coordinator):
    client.force_login(coordinator)
    assert client.get(look_url(coalition)).status_code == 200
    response = save_look(client, coalition, data=HOSTILE, accent="#7A1F3D")
    assert response.status_code == 302
    coalition.refresh_from_db()
    assert coalition.accent == "#7a1f3d" and re.fullmatch(r"coalitions/\d+/logo-[0-9a-f]{20}\.svg", coalition.logo)
    served = client.get(coalition.logo_url())
    assert served.status_code == 200 and served["Content-Type"] == "image/svg+xml"
    assert b"alert" not in served.content and b"<circle" in served.content
    assert "default-src 'none'" in served["Content-Security-Policy"] and "immutable" in served["Cache-Control"]
    event = AuditEvent.objects.get(action="coalition.look_changed")
    assert event.actor == coordinator and event.data["after"] == {"accent": "#7a1f3d", "logo": coalition.logo}


def test_a_png_logo_is_written_again_without_what_it_carried(client, coalition, coordinator):
    client.force_login(coordinator)
    data = png() + b"trailing bytes after IEND"
    assert save_look(client, coalition, data=data, name="logo.png").status_code == 302
    coalition.refresh_from_db()
    served = client.get(coalition.logo_url())
    assert served["Content-Type"] == "image/png" and b"trailing" not in served.content
    assert Image.open(io.BytesIO(served.content)).size == (20, 10)


@pytest.mark.parametrize("data, name, message", [
    (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "logo.gif", "Upload an SVG or PNG image."),
    (b"\xff\xd8\xff\xe0 not really a jpeg", "logo.jpg", "Upload an SVG or PNG image."),
    (b"%PDF-1.7 a pdf", "logo.svg", "Upload an SVG or PNG image."),
    (b"\x89PNG\r\n\x1a\n broken", "logo.png", "Upload an SVG or PNG image."),
    (b"<svg" + b" " * (600 * 1024) + b"/>", "logo.svg", "at most 512 KB"),
])
def test_other_files_are_refused_with_a_message_and_a_400(client, coalition, coordinator, data, name, message):
    client.force_login(coordinator)
    response = save_look(client, coalition, data=data, name=name, accent="#0b4f8a")
    assert response.status_code == 400 and message in response.content.decode()
    coalition.refresh_from_db()
    assert coalition.logo == "" and not AuditEvent.objects.filter(action="coalition.look_changed").exists()


def test_a_png_too_large_in_pixels_is_refused(client, coalition, coordinator):
    client.force_login(coordinator)
    response = save_look(client, coalition, data=png(2500, 10), name="logo.png")
    assert response.status_code == 400 and "2000 pixels" in response.content.decode()


def test_a_light_accent_is_refused_on_the_page_with_a_suggestion(client, coalition, coordinator):
    client.force_login(coordinator)
    response = save_look(client, coalition, accent="#ffcc00")
    assert response.status_code == 400 and "A darker shade such as #" in response.content.decode()


def test_a_storage_that_fails_changes_nothing_and_says_so(client, coalition, coordinator, monkeypatch):
    from django.core.files.storage import default_storage

    def refuse(*args, **kwargs):
        raise OSError("the bucket cannot be reached")

    monkeypatch.setattr(default_storage, "save", refuse)
    client.force_login(coordinator)
    response = save_look(client, coalition, data=LOGO, accent="#7a1f3d")
    assert response.status_code == 503 and "could not be stored" in response.content.decode()
    coalition.refresh_from_db()
    assert coalition.logo == "" and coalition.accent == ""


def test_the_logo_can_be_removed(client, coalition, coordinator):
    client.force_login(coordinator)
    save_look(client, coalition, data=LOGO)
    save_look(client, coalition, accent="", remove_logo="on")
    coalition.refresh_from_db()
    assert coalition.logo == "" and coalition.look_css_url() == ""


@pytest.mark.parametrize("who", ["anonymous", "outsider", "staff", "other_coordinator"])
def test_only_the_coalitions_coordinators_may_set_its_look(client, coalition, staff, outsider, who):
    if who == "staff":
        client.force_login(staff)
    elif who == "outsider":
        client.force_login(outsider)
    elif who == "other_coordinator":
        other = factories.CoalitionFactory()
        client.force_login(factories.CoordinatorFactory(coalition=other).user)
    get, post = client.get(look_url(coalition)), save_look(client, coalition, data=LOGO, accent="#000000")
    if who == "anonymous":
        assert get.status_code == post.status_code == 302 and "/accounts/login/" in post.url
    else:
        assert get.status_code == post.status_code == 403
    coalition.refresh_from_db()
    assert coalition.logo == "" and coalition.accent == ""


def test_the_service_refuses_anyone_but_a_coordinator(coalition, staff):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.set_look(coalition, by=staff, accent="#000000")


def test_the_admin_sets_the_look_through_the_same_checks(client, coalition):
    # A site operator (enrolled in two-factor authentication, as the admin requires), who need
    # not coordinate the coalition.
    outsider = factories.CoordinatorFactory(coalition=factories.CoalitionFactory()).user
    outsider.is_staff = outsider.is_superuser = True
    outsider.save()
    client.force_login(outsider)
    url = reverse("admin:coalition_coalition_change", args=[coalition.pk])
    data = {"name": coalition.name, "slug": coalition.slug, "description": "", "website": "", "embed_origins": "[]",
            "accent": "#ffff00", "created_at_0": "2026-01-05", "created_at_1": "10:00:00",
            "name_uk": "", "description_uk": "", "place_en": "", "place_uk": ""}
    for prefix in ("memberships", "roles"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0",
                     f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"})
    refused = client.post(url, data)
    assert refused.status_code == 200 and "4.5:1" in refused.content.decode()
    data.update({"accent": "#7a1f3d", "logo_upload": upload(HOSTILE)})
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    coalition.refresh_from_db()
    assert coalition.accent == "#7a1f3d" and coalition.logo.endswith(".svg")
    assert b"alert" not in Path(settings.MEDIA_ROOT, coalition.logo).read_bytes()
    assert AuditEvent.objects.get(action="coalition.look_changed").actor == outsider


# Where the look shows ------------------------------------------------------------------------

@pytest.fixture
def styled(coalition, coordinator):
    return services.set_look(coalition, by=coordinator, accent="#7a1f3d", logo=look.clean_logo(upload(LOGO)))


def test_the_coalitions_statement_page_shows_its_logo_and_its_stylesheet(client, styled, coordinator):
    statement = factories.make_statement(styled, by=coordinator, status="open", allows_individuals=True)
    page = client.get(statement.get_absolute_url()).content.decode()
    assert styled.logo_url() in page and styled.look_css_url() in page
    css = client.get(styled.look_css_url())
    assert css["Content-Type"].startswith("text/css") and "--accent: #7a1f3d" in css.content.decode()
    assert "immutable" in css["Cache-Control"]
    assert "style-src 'self'" in client.get(statement.get_absolute_url())["Content-Security-Policy"]


def test_the_embed_page_wears_the_coalitions_look(client, styled, coordinator):
    statement = factories.make_statement(styled, by=coordinator, status="open", allows_individuals=True)
    page = client.get(reverse("statement_embed", args=[statement.slug])).content.decode()
    assert styled.logo_url() in page and styled.look_css_url() in page


def test_the_coalition_page_shows_its_logo_and_other_coalitions_pages_do_not(client, styled):
    assert styled.logo_url() in client.get(styled.get_absolute_url()).content.decode()
    other = factories.CoalitionFactory()
    page = client.get(other.get_absolute_url()).content.decode()
    assert styled.logo_url() not in page and "look-" not in page


def test_an_old_stylesheet_address_answers_the_current_look_briefly(client, styled):
    response = client.get(reverse("coalition_look_css", args=[styled.slug, "000000000000"]))
    assert "--accent: #7a1f3d" in response.content.decode() and "max-age=300" in response["Cache-Control"]


@pytest.mark.parametrize("name, kind", [("logo-" + "0" * 20, "svg"), ("../../etc/passwd", "svg"), ("logo-x", "png"),
                                        ("logo-" + "0" * 20, "html")])
def test_unknown_logo_addresses_are_not_found(client, styled, name, kind):
    path = f"/coalitions/{styled.slug}/logo/{name}.{kind}"
    assert client.get(path).status_code == 404


def test_an_email_about_the_coalitions_statement_carries_its_logo_and_accent(styled, coordinator):
    statement = factories.make_statement(styled, by=coordinator, status="open")
    context = {"statement": statement, "revision": statement.signed_revision, "confirm_url": "https://x.example/c"}
    _, _, html = outbox.render_message("signature_confirmation", context, "uk")
    assert f'<img src="{settings.SITE_URL}{styled.logo_url()}"' in html
    assert "border-bottom: 4px solid #7a1f3d" in html and outbox.SITE_ACCENT not in html.split("<body")[1].split("</td>")[0]


def test_an_email_of_a_coalition_with_no_look_has_the_sites_accent_and_no_logo(coalition, coordinator):
    statement = factories.make_statement(coalition, by=coordinator, status="open")
    _, _, html = outbox.render_message("signature_confirmation", {"statement": statement, "revision": statement.signed_revision,
                                                                  "confirm_url": "https://x.example/c"}, "en")
    assert "<img" not in html and outbox.SITE_ACCENT in html and "#7a1f3d" not in html


def test_the_pdf_draws_the_coalitions_png_logo_and_stays_pdf_a():
    logo = look.clean_png(png(40, 40, (10, 120, 40)))
    data = pdf.render_pdf(make_document(logo=logo, logo_kind="png", accent="#7a1f3d"))
    with pikepdf.open(io.BytesIO(data)) as document:
        images = [pikepdf.PdfImage(image) for image in document.pages[0].images.values()]
        assert any(image.width == 40 and image.height == 40 for image in images)
        meta = document.open_metadata()
        assert meta.pdfa_status == "3A"


def test_the_pdf_draws_an_svg_logo_as_vectors_in_the_accent_and_stays_pdf_a():
    plain = pdf.render_pdf(make_document())
    styled = pdf.render_pdf(make_document(logo=look.sanitise_svg(LOGO), logo_kind="svg", accent="#7a1f3d"))
    assert styled != plain
    with pikepdf.open(io.BytesIO(styled)) as document:
        assert document.open_metadata().pdfa_status == "3A"
        content = b"".join(stream for stream in _content_streams(document))
    # The accent is drawn (0.478 0.122 0.239 = #7a1f3d in the PDF's RGB operators).
    assert re.search(rb"0\.47\d+ 0\.12\d+ 0\.23\d+ (rg|RG)", content)


def _content_streams(document):
    seen = set()
    for page in document.pages[:1]:
        for stream in page.get_contents() if hasattr(page, "get_contents") else []:
            yield stream.read_bytes()
        for name, xobject in (page.Resources.get("/XObject") or {}).items():
            if xobject.objgen not in seen:
                seen.add(xobject.objgen)
                yield xobject.read_bytes()
        yield page.Contents.read_bytes() if isinstance(page.Contents, pikepdf.Stream) else b"".join(
            s.read_bytes() for s in page.Contents)


def test_a_logo_asset_is_only_what_the_document_brings():
    fetcher = pdf.AssetFetcher({pdf.ASSET_BASE + "coalition/logo.svg": (LOGO, "image/svg+xml")})
    assert fetcher.fetch(pdf.ASSET_BASE + "coalition/logo.svg").read() == LOGO
    with pytest.raises(pdf.AssetRefused):
        fetcher.fetch(pdf.ASSET_BASE + "coalition/logo.png")
    with pytest.raises(pdf.AssetRefused):
        pdf.AssetFetcher().fetch(pdf.ASSET_BASE + "coalition/logo.svg")


def test_a_published_issue_carries_the_coalitions_logo(styled, coordinator, signer, member_org,
                                                        django_capture_on_commit_callbacks):
    from .helpers import closed_statement, publish

    statement = closed_statement(styled, coordinator, signer, member_org)
    publication = publish(statement, coordinator, django_capture_on_commit_callbacks)
    data = publication.pdf.read()
    assert pdf.verify_pdf(data).authentic
    content = b"".join(_content_streams(pikepdf.open(io.BytesIO(data))))
    assert re.search(rb"0\.47\d+ 0\.12\d+ 0\.23\d+ (rg|RG)", content)


# Fonts ---------------------------------------------------------------------------------------

def test_the_web_fonts_the_stylesheet_names_exist_are_woff2_and_small():
    css = (Path(settings.BASE_DIR) / "static" / "css" / "site.css").read_text()
    urls = re.findall(r"url\((\.\./fonts/[^)]+)\)", css)
    assert len(urls) >= 4 and all(u.endswith(".woff2") for u in urls)
    assert "font-display: swap" in css
    for url in urls:
        path = Path(settings.BASE_DIR) / "static" / "css" / url
        data = path.read_bytes()
        assert data[:4] == b"wOF2" and len(data) < 100 * 1024, url
    assert (Path(settings.BASE_DIR) / "static" / "fonts" / "web" / "OFL.txt").exists()


def test_the_web_fonts_cover_ukrainian():
    from fontTools.ttLib import TTFont

    font = TTFont(Path(settings.BASE_DIR) / "static" / "fonts" / "web" / "NotoSerif-Regular.woff2")
    cmap = font.getBestCmap()
    assert all(ord(c) in cmap for c in "ҐґЄєІіЇїАаЯя’«»—№")


def test_the_fonts_are_served(client):
    from django.contrib.staticfiles import finders

    assert finders.find("fonts/web/NotoSans-Regular.woff2")


# The front page ------------------------------------------------------------------------------

def test_the_front_page_leads_with_statements_and_keeps_the_search_beside_them(client, coalition, coordinator):
    factories.make_statement(coalition, by=coordinator, status="open", allows_individuals=True, title="An open one")
    page = client.get("/").content.decode()
    assert page.index('role="search"') < page.index("An open one") < page.index('id="coalitions-heading"')
    assert 'name="q"' in page and "<details" in page and 'name="organisation"' in page
