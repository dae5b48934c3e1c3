"""Published statements as PDFs: HTML -> PDF (WeasyPrint) -> PAdES signature (pyHanko) ->
verification.

The functions take and return plain values, so that they know nothing of the models:

- `render_pdf(document)`: a `PdfDocument` as an unsigned, tagged PDF/A-3a file (A4, the
  coalition's letterhead, the text, the signatories, a QR code and short link to the verification
  page, the SHA-256 of the signed text, "page n of N"), carrying the signatory list as embedded,
  associated files (`signatories.json`, `signatories.csv`) that the signature covers.
- `embedded_signatories(pdf_bytes)`: that list read back from a file, or None.
- `sign_pdf(pdf_bytes)`: the same file with the coalition's PAdES signature appended (B-B, or
  B-LTA when ``SIGNING_TIMESTAMP_URL`` is set) and a visible stamp naming the signer. Nothing may
  change the bytes it returns: store and serve them as they are.
- `verify_pdf(pdf_bytes)`: is there a signature, is the file unchanged since it was signed, is
  the signer trusted (the configured root certificate is the only trust root), who signed, when,
  and does the file carry its own long-term validation data and a document timestamp.
- `sha256(data)`: the hex digest that identifies a published file.

The renderer fetches nothing from the network and reads no file outside the assets listed in
`ASSETS`: WeasyPrint gets `AssetFetcher`, which serves those and refuses every other URL.
"""

import asyncio
import dataclasses
import csv
import hashlib
import io
import json
import logging
import re
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timezone
from io import BytesIO
from pathlib import Path

import qrcode
import qrcode.constants
import weasyprint
from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import escape
from django.utils.formats import date_format
from django.utils.timezone import now as django_now
from django.utils.translation import gettext as _
from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.decode_limits import DecodePurpose
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.ades.report import AdESPassed
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import ades, validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator import policy_decl as certvalidator_policy
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.registry import SimpleTrustManager
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from coalition import time_zones

from . import pdf_signing
from .text import spreadsheet_cell

logger = logging.getLogger(__name__)

STATIC = Path(settings.BASE_DIR) / "static"

# Every file the renderer may read, by the URL the template and stylesheet use for it. The host
# is in the reserved .invalid domain: it never resolves, and nothing is ever fetched from it.
ASSET_BASE = "https://pdf-assets.invalid/"
ASSETS: dict[str, Path] = {
    ASSET_BASE + relative: STATIC / relative
    for relative in (
        "pdf/statement.css",
        "img/coalition-logo.svg",
        "fonts/NotoSerif-Regular.ttf",
        "fonts/NotoSerif-Bold.ttf",
        "fonts/NotoSerif-Italic.ttf",
        "fonts/NotoSerif-BoldItalic.ttf",
        "fonts/NotoSans-Regular.ttf",
        "fonts/NotoSans-Bold.ttf",
    )
}
MEDIA_TYPES = {".css": "text/css", ".svg": "image/svg+xml", ".ttf": "font/ttf", ".png": "image/png"}
# The coalition's own logo (already sanitised, coalition/look.py), given as bytes with the document.
DEFAULT_LOGO = ASSET_BASE + "img/coalition-logo.svg"

# The visible signature stamp: pyHanko draws it over the empty box the template reserves with
# this id, at this size (PDF points). Its font has 1000 units per em, which pyHanko's glyph
# widths assume (with other fonts the stamp text is mis-spaced).
STAMP_ANCHOR = "signature-stamp"
STAMP_WIDTH_PT = 168
STAMP_HEIGHT_PT = 58
STAMP_FONT = STATIC / "fonts" / "NotoSans-Stamp.ttf"  # see scripts/make_stamp_font.py
SIGNATURE_FIELD = "CoalitionSignature"
TIMESTAMP_FIELD = "CoalitionDocumentTimestamp"

# WeasyPrint writes PDF/A-3a (ISO 19005-3, level A): embedded fonts, XMP metadata with the PDF/A
# identification, an sRGB output intent, printable annotations, and a tagged structure tree
# (headings, paragraphs, lists in reading order, /Lang from <html lang>, MarkInfo /Marked) for
# screen readers. Embedded files are associated with the document (/AF, /AFRelationship).
# pyHanko's signature is an incremental update (which PDF/A-3 allows) with an embedded font and an
# appearance stream, and it keeps the XMP identification and the structure tree. Not checked with
# a PDF/A validator (veraPDF cannot be installed here); tests/test_pdf.py and
# tests/test_pdf_contents.py check the marks a signature could break.
PDF_VARIANT = "pdf/a-3a"

# The signatory list inside the file: the same data as JSON and as CSV, each an associated file
# with the relationship /Data. `embedded_signatories` reads the JSON back; it reads no more than
# MAX_EMBEDDED_BYTES of it (50,000 individuals take about 4 MB).
SIGNATORIES_JSON = "signatories.json"
SIGNATORIES_CSV = "signatories.csv"
MAX_EMBEDDED_BYTES = 32 * 1024 * 1024
CSV_COLUMNS = ["statement", "issue", "issue_text_sha256", "kind", "name", "organisation_slug", "affiliation",
               "signed_text_sha256", "signed_at"]


@dataclass(frozen=True)
class Signatory:
    """An individual who signed: a name and, optionally, where they work."""

    name: str
    affiliation: str = ""


@dataclass(frozen=True)
class SignedOrganisation:
    """An organisation that signed: its name and, for the signatory list the file carries, its
    slug, the SHA-256 of the text it signed and when (ISO 8601). Issues frozen before the list
    held these have the name only. `name` is the name in the document's language; `names` the
    name in every language, as (language, name) pairs (empty in issues frozen before names had
    languages)."""

    name: str
    slug: str = ""
    sha256: str = ""
    signed_at: str = ""
    names: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Translation:
    """The statement in another language, printed after the original for information."""

    language: str
    title: str
    body_html: str
    summary: str = ""


@dataclass(frozen=True)
class PdfDocument:
    """Everything a publication prints, as plain values.

    `body_html` (and a translation's) must already be sanitised: it is inserted as it is.
    `text_sha256` is the SHA-256 of the signed text (the revision's canonical text);
    `verification_url` is what the QR code opens and `short_url` what the page prints for
    people to type. `language` ("uk" or "en") is the language of the text and of the labels.
    `organisations` are names or `SignedOrganisation`s; `slug` is the statement's.
    `signatories_url` is the statement's page of all its signatories, which the file names when
    there are too many individuals to print.
    """

    coalition_name: str
    title: str
    language: str
    body_html: str
    text_sha256: str
    verification_url: str
    short_url: str
    date: date
    place: str = ""
    summary: str = ""
    organisations: Sequence[str | SignedOrganisation] = ()
    individuals: Sequence[Signatory] = ()
    issue: int = 1
    correction_note: str = ""
    translations: Sequence[Translation] = field(default_factory=tuple)
    slug: str = ""
    # The audit log's head when the file was made (coalition/audit.py): event number and hash.
    audit_event_id: int | None = None
    audit_hash: str = ""
    signatories_url: str = ""
    # The coalition's look: its logo's bytes and kind ("svg" or "png"; none: the site's mark) and
    # its accent colour (#rrggbb; none: the letterhead's blue).
    logo: bytes = b""
    logo_kind: str = ""
    accent: str = ""

    @property
    def logo_url(self) -> str:
        return f"{ASSET_BASE}coalition/logo.{self.logo_kind}" if self.logo and self.logo_kind in ("svg", "png") else DEFAULT_LOGO

    @property
    def own_assets(self) -> dict[str, tuple[bytes, str]]:
        """The files this document brings besides `ASSETS`: its logo."""
        if self.logo_url == DEFAULT_LOGO:
            return {}
        return {self.logo_url: (self.logo, MEDIA_TYPES["." + self.logo_kind])}

    @property
    def audit_hash_groups(self) -> list[str]:
        return _hash_groups(self.audit_hash)

    @property
    def signed_organisations(self) -> list[SignedOrganisation]:
        return [o if isinstance(o, SignedOrganisation) else SignedOrganisation(str(o)) for o in self.organisations]


class AssetRefused(ValueError):
    """The renderer asked for something that is not one of the bundled assets."""


class AssetFetcher(URLFetcher):
    """Serves the files in `ASSETS` and refuses every other URL: no network, no other files, no
    redirects. WeasyPrint logs a refused resource and renders without it."""

    def __init__(self, extra: dict[str, tuple[bytes, str]] | None = None):
        super().__init__(allowed_protocols=(), allow_redirects=False, timeout=1)
        self.extra = extra or {}

    def fetch(self, url, headers=None):
        if url in self.extra:
            body, media_type = self.extra[url]
            return URLFetcherResponse(url, body=body, headers={"Content-Type": media_type})
        path = ASSETS.get(url)
        if path is None:
            raise AssetRefused(f"not a bundled asset: {url[:200]}")
        return URLFetcherResponse(url, body=_asset_bytes(path), headers={"Content-Type": MEDIA_TYPES[path.suffix]})


_asset_cache: dict[Path, bytes] = {}


def _asset_bytes(path: Path) -> bytes:
    if path not in _asset_cache:
        _asset_cache[path] = path.read_bytes()
    return _asset_cache[path]


def sha256(data: bytes) -> str:
    """The SHA-256 of `data` as lowercase hex: how a published file is identified."""
    return hashlib.sha256(data).hexdigest()


# Rendering -------------------------------------------------------------------------------------


def qr_svg(url: str, title: str = "") -> str:
    """A QR code for `url` as an inline SVG element (dark modules as one path, merged by rows),
    with `title` as its alternative text."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(url)
    code.make(fit=True)
    matrix = code.get_matrix()
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    size = len(matrix)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'shape-rendering="crispEdges"><title>{escape(title)}</title>'
        f'<path fill="#111111" d="{"".join(runs)}"/></svg>'
    )


def css_string(value: str) -> str:
    """`value` as a quoted CSS string: letters, digits and spaces as they are, everything else
    as a CSS escape, so no input can end the string or the rule."""
    escaped = "".join(c if c.isalnum() or c == " " else f"\\{ord(c):x} " for c in value)
    return f'"{escaped}"'


def _page_counter(message: str) -> str:
    """A translated "Page %(page)s of %(pages)s" as CSS `content` with page counters."""
    parts = re.split(r"(%\(pages?\)s)", message)
    counters = {"%(page)s": "counter(page)", "%(pages)s": "counter(pages)"}
    return " ".join(counters.get(part) or css_string(part) for part in parts if part)


def _shorten(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def _page_css(document: PdfDocument) -> str:
    footer = _("Verify: %(link)s") % {"link": document.short_url}
    page_of = _("Page %(page)s of %(pages)s")
    return (
        "@page { "
        f"@top-left {{ content: {css_string(document.coalition_name)}; }} "
        f"@top-right {{ content: {css_string(_shorten(document.title, 70))}; }} "
        f"@bottom-left {{ content: {css_string(footer)}; }} "
        f"@bottom-right {{ content: {_page_counter(page_of)}; }} "
        "}"
        + _accent_css(document.accent)
    )


def _accent_css(accent: str) -> str:
    """The coalition's colour on the letterhead's rule, its name and the headings. Only a
    #rrggbb value is used: it is written into CSS."""
    if not re.fullmatch(r"#[0-9a-f]{6}", accent or ""):
        return ""
    return (f" @page {{ @top-left {{ color: {accent}; }} }}"
            f" .letterhead {{ border-bottom-color: {accent}; }}"
            f" .letterhead .coalition, h2 {{ color: {accent}; }}")


def _hash_groups(value: str) -> list[str]:
    return [value[i : i + 16] for i in range(0, len(value), 16)]


def long_date(value: date) -> str:
    """A date as a statement prints it, in the active language ("3 September 2024")."""
    # Translators: a date format (Django's `date` filter) for dates printed in published PDFs.
    return date_format(value, _("j F Y"))


# Individuals are printed in an annex as running text, "Name (affiliation) · Name · ...", in
# paragraphs of this many names. WeasyPrint's cost per name is then flat and a third of a list's
# (one box per paragraph line instead of a block, a line and a text box per name; a two-column
# list grew faster than its length): about 0.4 ms of CPU and 3.5 KB per name, 21 s at 50,000 names
# on the benchmark machine (docs/benchmarks.md). The size of a paragraph barely matters; it only bounds
# how much text one line break looks at.
NAMES_PER_PARAGRAPH = 200
# Keeps each separator on the line of the name before it, so that no line starts with one.
NAME_SEPARATOR = "\u00a0· "


def printed_individuals(document: PdfDocument) -> list[str]:
    """The individuals as the annex prints them: paragraphs of running text, each name followed
    by its affiliation in brackets. Empty above ``PDF_MAX_PRINTED_INDIVIDUALS``: then the PDF
    prints only their number, and the names are in its embedded files and on the statement's
    signatories page."""
    if len(document.individuals) > settings.PDF_MAX_PRINTED_INDIVIDUALS:
        return []
    names = [f"{p.name} ({p.affiliation})" if p.affiliation else p.name for p in document.individuals]
    return [NAME_SEPARATOR.join(names[i : i + NAMES_PER_PARAGRAPH]) for i in range(0, len(names), NAMES_PER_PARAGRAPH)]


def render_html(document: PdfDocument) -> str:
    """The HTML the PDF is made from (templates/pdf/statement.html), in the document's language."""
    with translation.override(document.language):
        return render_to_string("pdf/statement.html", {
            "doc": document,
            "individual_count": len(document.individuals),
            "printed_individuals": printed_individuals(document),
            "date": long_date(document.date),
            "assets": ASSET_BASE,
            "page_css": _page_css(document),
            "qr_svg": qr_svg(document.verification_url, _("QR code: the address of the verification page")),
            "hash_groups": _hash_groups(document.text_sha256),
            "stamp_anchor": STAMP_ANCHOR,
            "stamp_width": STAMP_WIDTH_PT,
            "stamp_height": STAMP_HEIGHT_PT,
        })


@dataclass(frozen=True)
class EmbeddedFile:
    """A file to embed in the PDF, as bytes (never fetched), associated with the document."""

    name: str
    data: bytes
    description: str = ""
    relationship: str = "Data"
    moment: datetime | None = None


def html_to_pdf(html: str, *, pdf_variant: str | None = PDF_VARIANT, files: Sequence[EmbeddedFile] = (),
                assets: dict[str, tuple[bytes, str]] | None = None) -> bytes:
    """Any HTML as a PDF through the allowlist fetcher: relative URLs resolve against
    `ASSET_BASE`; anything not in `ASSETS` (or in `assets`, given as bytes) is refused,
    attachments included. `files` are embedded as they are."""
    fetcher = AssetFetcher(assets)
    font_config = FontConfiguration()
    page = weasyprint.HTML(string=html, base_url=ASSET_BASE, url_fetcher=fetcher)
    attachments = [
        weasyprint.Attachment(string=f.data, name=f.name, description=f.description, relationship=f.relationship,
                              created=f.moment, modified=f.moment, url_fetcher=fetcher)
        for f in files
    ]
    return page.write_pdf(font_config=font_config, pdf_variant=pdf_variant, attachments=attachments)


def render_pdf(document: PdfDocument) -> bytes:
    """The publication as an unsigned, tagged PDF/A-3a file carrying its signatory list, ready
    for `sign_pdf`."""
    return html_to_pdf(render_html(document), files=signatory_files(document), assets=document.own_assets)


# The signatory list inside the file ----------------------------------------------------------


def signatory_list(document: PdfDocument) -> dict:
    """The signatory list the file carries (`signatories.json`): the statement's slug, the issue
    and the SHA-256 of its text; each organisation with the SHA-256 of the text it signed and when;
    each individual by name and affiliation. Never anyone's email address."""
    return {
        "statement": document.slug,
        "issue": document.issue,
        "text_sha256": document.text_sha256,
        "organisations": [_organisation_entry(o) for o in document.signed_organisations],
        "individuals": [{"name": p.name, "affiliation": p.affiliation} for p in document.individuals],
    }


def _organisation_entry(organisation: SignedOrganisation) -> dict:
    """An organisation as signatories.json lists it; "names" (every language's) only where the
    issue kept them, so the list of an earlier file reads as it was made."""
    entry = asdict(organisation)
    entry.pop("names")
    if organisation.names:
        entry["names"] = dict(organisation.names)
    return entry


def signatories_csv(signatories: dict) -> str:
    """The same list as CSV, one row per signatory, each row naming the statement, the issue and
    its text's SHA-256. With a byte-order mark (so that Excel reads Cyrillic) and every cell safe
    to open in a spreadsheet."""
    output = io.StringIO()
    output.write("\ufeff")
    writer = csv.writer(output, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    issue = [signatories["statement"], signatories["issue"], signatories["text_sha256"]]
    for o in signatories["organisations"]:
        writer.writerow([spreadsheet_cell(v) for v in
                         (*issue, "organisation", o["name"], o["slug"], "", o["sha256"], o["signed_at"])])
    for p in signatories["individuals"]:
        writer.writerow([spreadsheet_cell(v) for v in (*issue, "individual", p["name"], "", p["affiliation"], "", "")])
    return output.getvalue()


def signatory_files(document: PdfDocument) -> list[EmbeddedFile]:
    """`signatories.json` and `signatories.csv`, dated with the statement's date."""
    signatories = signatory_list(document)
    moment = datetime.combine(document.date, time(), tzinfo=timezone.utc)
    with translation.override(document.language):
        return [
            EmbeddedFile(SIGNATORIES_JSON, json.dumps(signatories, ensure_ascii=False, indent=1).encode(),
                         _("The signatories of this statement, as data (JSON)"), moment=moment),
            EmbeddedFile(SIGNATORIES_CSV, signatories_csv(signatories).encode(),
                         _("The signatories of this statement, as a table (CSV)"), moment=moment),
        ]


def embedded_signatories(pdf_bytes: bytes) -> dict | None:
    """The signatory list a PDF carries (its `signatories.json`), in the shape `signatory_list`
    gives, or None when it carries none or none that reads as one. Never raises on bad input."""
    try:
        reader = PdfFileReader(BytesIO(pdf_bytes), strict=False)
        data = _embedded_file(reader, SIGNATORIES_JSON)
        return None if data is None else _signatory_list_shape(json.loads(data.decode("utf-8")))
    except Exception as exc:  # noqa: BLE001 (a mangled file carries no list we can read)
        logger.info("embedded_signatories: unreadable: %s", exc)
        return None


def _filespecs(reader: PdfFileReader):
    root = reader.root
    yield from root.get("/AF", ())
    names = root.get("/Names", {}).get("/EmbeddedFiles", {}).get("/Names", ())
    yield from (names[i] for i in range(1, len(names), 2))


def _embedded_file(reader: PdfFileReader, name: str) -> bytes | None:
    for spec in _filespecs(reader):
        spec = spec.get_object() if hasattr(spec, "get_object") else spec
        if str(spec.get("/UF", spec.get("/F", ""))) == name:
            return _bounded_data(spec["/EF"]["/F"])
    return None


def _bounded_data(stream) -> bytes | None:
    """A stream's decoded bytes, unfiltered or Flate only, and never more than
    MAX_EMBEDDED_BYTES: a small stream must not unpack into gigabytes."""
    filters = stream.get("/Filter")
    filters = [] if filters is None else [filters] if isinstance(filters, generic.NameObject) else list(filters)
    raw = stream.encoded_data
    if not filters:
        return raw if len(raw) <= MAX_EMBEDDED_BYTES else None
    if filters != ["/FlateDecode"] or stream.get("/DecodeParms"):
        return None
    inflater = zlib.decompressobj()
    data = inflater.decompress(raw, MAX_EMBEDDED_BYTES)
    return None if inflater.unconsumed_tail else data


def _signatory_list_shape(value) -> dict | None:
    """`value` as a signatory list with exactly the keys and types `signatory_list` writes, or
    None."""
    def text(item, key):
        if not isinstance(item.get(key, ""), str):
            raise TypeError(key)
        return item.get(key, "")

    try:
        return {
            "statement": text(value, "statement"),
            "issue": int(value["issue"]),
            "text_sha256": text(value, "text_sha256"),
            "organisations": [_organisation_shape(o, text) for o in value["organisations"]],
            "individuals": [{key: text(p, key) for key in ("name", "affiliation")} for p in value["individuals"]],
        }
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


def _organisation_shape(value, text) -> dict:
    entry = {key: text(value, key) for key in ("name", "slug", "sha256", "signed_at")}
    if "names" in value:
        names = value["names"]
        if not isinstance(names, dict) or not all(isinstance(v, str) for v in names.values()):
            raise TypeError("names")
        entry["names"] = {str(k): v for k, v in names.items()}
    return entry


# Signing ---------------------------------------------------------------------------------------


def _page_numbers(reader: PdfFileReader) -> list[int | None]:
    """The object number of every page, in order. WeasyPrint writes a flat page tree, whose kids
    are all pages: then no page needs to be read (reading them all takes a while in a long file)."""
    tree = reader.root["/Pages"]
    kids = tree["/Kids"]
    if int(tree["/Count"]) == len(kids):
        return [getattr(kids.raw_get(i), "idnum", None) for i in range(len(kids))]
    numbers, stack = [], [reader.root.raw_get("/Pages")]
    while stack:
        reference = stack.pop()
        node = reference.get_object()
        if node.get("/Type") == "/Pages":
            kids = node["/Kids"]
            stack.extend(kids.raw_get(i) for i in reversed(range(len(kids))))
        else:
            numbers.append(getattr(reference, "idnum", None))
    return numbers


def _named_destination(reader: PdfFileReader, name: str):
    try:
        names = reader.root["/Names"]["/Dests"]["/Names"]
    except KeyError:
        return None
    for i in range(0, len(names) - 1, 2):
        if str(names[i]) == name:
            return names[i + 1]
    return None


def stamp_place(reader: PdfFileReader) -> tuple[int, tuple[int, int, int, int]]:
    """Where the visible stamp goes: the box the template reserved (found through its named
    destination), or, in a PDF made elsewhere, the bottom right corner of the last page."""
    pages = _page_numbers(reader)
    destination = _named_destination(reader, STAMP_ANCHOR)
    if destination is not None and isinstance(destination.raw_get(0), generic.IndirectObject):
        idnum = destination.raw_get(0).idnum
        if idnum in pages:
            left, top = float(destination[2]), float(destination[3])
            box = (round(left), round(top - STAMP_HEIGHT_PT), round(left + STAMP_WIDTH_PT), round(top))
            return pages.index(idnum), box
    right = 595 - 36  # half an inch inside the right edge of an A4 page (or a wider one)
    return len(pages) - 1, (right - STAMP_WIDTH_PT, 36, right, 36 + STAMP_HEIGHT_PT)


def _outside_event_loop(function, *args, **kwargs):
    """Call one of pyHanko's synchronous functions. They run `asyncio.run()`, which refuses to
    start inside a running event loop (an async view, a browser driver); there, use a thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args, **kwargs).result()


def _common_name(certificate: asn1_x509.Certificate) -> str:
    subject = certificate.subject.native
    return subject.get("organization_name") or subject.get("common_name") or certificate.subject.human_friendly


def _stamp_style(label: str, stamped_at: str) -> TextStampStyle:
    font = GlyphAccumulatorFactory(str(STAMP_FONT))
    return TextStampStyle(
        stamp_text=label.replace("%", "%%") + "\n%(signer)s\n%(ts)s",
        text_box_style=TextBoxStyle(font=font, font_size=9, leading=12),
        border_width=1,
        border_color=(0.114, 0.231, 0.42),
        # Written out already, not a strftime format: the time in the site's zone, named in the
        # stamp's language (pyHanko's %Z would name the server clock's zone, "EET" or "UTC").
        timestamp_format=stamped_at.replace("%", "%%"),
    )


def sign_pdf(pdf_bytes: bytes, *, signer_name: str | None = None, language: str | None = None) -> bytes:
    """Append the coalition's PAdES signature to `pdf_bytes` and return the signed file.

    A certification signature that permits no further change, B-B, with a visible stamp
    "Digitally signed by <signer_name>" (by default the certificate's organisation) in the box
    `render_pdf` reserved for it. The stamp's words are in `language` (default: the active
    language). The result must be stored and served byte for byte: any change breaks the
    signature.

    With ``SIGNING_TIMESTAMP_URL`` set, PAdES B-LTA: the signature carries a timestamp (B-T); the
    certificates and revocation lists that prove it valid (`pdf_signing.long_term_validation_context`)
    follow in a DSS (B-LT), sealed by a document timestamp (B-LTA). Both are incremental updates
    that PAdES allows after a certification signature permitting no change.

    Raises `pdf_signing.SigningIdentityMissing` when no key is configured, pyHanko's
    `TimestampRequestError` when the timestamp server does not answer (worth a retry), and its
    `SigningError` (caused by the validator's error) when the signing certificate cannot be
    validated with the configured revocation information (revoked, or no CRL for it).
    """
    signer = pdf_signing.load_signer()
    name = signer_name or _common_name(signer.signing_cert)
    writer = IncrementalPdfFileWriter(BytesIO(pdf_bytes), strict=False)
    page, box = stamp_place(writer.prev)
    with translation.override(language or translation.get_language()):
        label, reason = _("Digitally signed by"), _("Published by %(name)s") % {"name": name}
        stamped_at = f"{time_zones.format_site_time(django_now())}\n{time_zones.site_zone_name()}"
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
        reason=reason,
        name=name,
    )
    timestamper, long_term = None, {}
    if settings.SIGNING_TIMESTAMP_URL:
        timestamper = HTTPTimeStamper(settings.SIGNING_TIMESTAMP_URL)
        long_term = {
            "embed_validation_info": True,
            "use_pades_lta": True,
            "timestamp_field_name": TIMESTAMP_FIELD,
            "validation_context": pdf_signing.long_term_validation_context(),
        }
    metadata = dataclasses.replace(metadata, **long_term)
    pdf_signer = signers.PdfSigner(
        metadata, signer, timestamper=timestamper, stamp_style=_stamp_style(label, stamped_at),
        # The field's /TU is the stamp's alternative text in the tagged PDF.
        new_field_spec=fields.SigFieldSpec(SIGNATURE_FIELD, on_page=page, box=box,
                                           readable_field_name=f"{label} {name}"),
    )
    output = BytesIO()
    _outside_event_loop(pdf_signer.sign_pdf, writer, output=output, appearance_text_params={"signer": name})
    return output.getvalue()


# Verification ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    """What `verify_pdf` found out about a file.

    `intact`: the signature is cryptographically valid and covers every byte of the file, or
    every byte up to its revision followed only by long-term validation data (a DSS, document
    timestamps), so nothing was changed or added since signing. `trusted`: the signing
    certificate chains to the configured trust root. `authentic` is both, with a signature
    present.

    `ltv`: the file itself carries what proves the signature valid (certificates and revocation
    information: PAdES B-LT), so it can be checked offline, after the certificates expire.
    `document_timestamp_at`: when the newest trusted document timestamp sealed the file and its
    validation data (PAdES B-LTA), or None. `signer_name`, `signer_organisation`, `signer_country`:
    the signing certificate's subject, field by field (CN, O, C), for the page to say in words;
    `signer_subject` is all of it in X.500's own words.
    """

    sha256: str
    readable: bool = False
    has_signature: bool = False
    intact: bool = False
    trusted: bool = False
    signer_subject: str = ""
    signer_name: str = ""
    signer_organisation: str = ""
    signer_country: str = ""
    signed_at: datetime | None = None
    timestamped: bool = False
    certificate_sha256: str = ""
    problem: str = ""
    ltv: bool = False
    document_timestamp_at: datetime | None = None

    @property
    def authentic(self) -> bool:
        return self.has_signature and self.intact and self.trusted


class _IndexedReader(PdfFileReader):
    """pyHanko's reader, finding an object inside an object stream through an index of that
    stream's header, made once. pyHanko reads the header from the start for every object it
    looks up, which is quadratic: in a tagged PDF with 1,000 signatories (thousands of structure
    elements in object streams) the difference analysis of a B-LTA file took over a minute, now
    a second. Anything unusual goes to pyHanko's own code, unchanged."""

    def _get_object_from_stream(self, idnum, stmnum, idx):
        index = self.__dict__.setdefault("_object_stream_index", {})
        if stmnum not in index:
            index[stmnum] = self._index_object_stream(stmnum)
        found = index[stmnum]
        if found is None or idnum not in found[2] or not 0 <= idx < found[3]:
            return super()._get_object_from_stream(idnum, stmnum, idx)
        data, first, offsets, _ = found
        stream_data = BytesIO(data)
        stream_data.seek(first + offsets[idnum])
        try:
            obj = generic.read_object(stream_data, generic.Reference(idnum, 0, self))
        except (misc.PdfStreamError, misc.PdfReadError):
            return super()._get_object_from_stream(idnum, stmnum, idx)
        if isinstance(obj, (generic.StreamObject, generic.IndirectObject)):
            return super()._get_object_from_stream(idnum, stmnum, idx)
        return obj

    def _index_object_stream(self, stmnum):
        """(decoded data, /First, {object number: offset}, /N), or None for a stream that is not
        a well-formed object stream."""
        try:
            stream = generic.Reference(stmnum, 0, self).get_object()
            if not isinstance(stream, generic.StreamObject) or stream.get("/Type") != "/ObjStm":
                return None
            data, first, count = stream.read_data(DecodePurpose.OBJECT_STREAM), int(stream["/First"]), int(stream["/N"])
            numbers = [int(number) for number in data[:first].split()]
        except (ValueError, KeyError, misc.PdfError):
            return None
        if len(numbers) != 2 * count:
            return None
        offsets: dict[int, int] = {}
        for number, offset in zip(numbers[0::2], numbers[1::2], strict=True):
            offsets.setdefault(number, offset)  # as pyHanko: the first entry for a number counts
        return data, first, offsets, count


def _padding_untouched(embedded) -> bool:
    """The signature's /Contents is the DER-encoded signature followed by zero padding. The
    padding is outside what the signature covers and what its parser reads, so check that
    nothing has been written into it."""
    contents = embedded.pkcs7_content
    return not contents[len(cms.ContentInfo.load(contents).dump()) :].strip(b"\x00")


def verification_roots() -> tuple[list[asn1_x509.Certificate], list[asn1_x509.Certificate]]:
    """The roots a signature's and a timestamp's certificates may chain to, from the settings."""
    signer_roots = [pdf_signing.trust_root()]
    try:
        return signer_roots, pdf_signing.timestamp_roots()
    except pdf_signing.ValidationDataMissing as exc:  # the operator's to fix; meanwhile timestamps go untrusted
        logger.error("verify_pdf: %s", exc)
        return signer_roots, signer_roots


def verify_pdf(pdf_bytes: bytes, roots: tuple[list, list] | None = None) -> Verification:
    """Check the first signature of `pdf_bytes` against the configured trust root (or `roots`:
    signer roots and timestamp roots, as `verification_roots()` gives them).

    Never raises on bad input: an unreadable file, a file without a signature, or one whose
    signature cannot be checked comes back with `problem` saying so. Only running out of memory
    is raised (MemoryError), so a process given a memory limit can tell it from a bad file.
    Costly on a hostile file: one from outside is checked by `sandbox.verify_untrusted`."""
    digest = sha256(pdf_bytes)
    try:
        reader = _IndexedReader(BytesIO(pdf_bytes), strict=False)
        embedded_signatures = reader.embedded_regular_signatures
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 (any parse failure means "not a readable PDF")
        logger.info("verify_pdf: unreadable file %s: %s", digest, exc)
        return Verification(digest, problem=_("This is not a readable PDF file."))
    if not embedded_signatures:
        return Verification(digest, readable=True, problem=_("The file carries no digital signature."))
    embedded = embedded_signatures[0]
    signer_roots, timestamp_roots = roots or verification_roots()
    try:
        status = _outside_event_loop(
            validate_pdf_signature, embedded,
            signer_validation_context=_offline_context(signer_roots),
            ts_validation_context=_offline_context(timestamp_roots),
        )
        # The signature's difference analysis covers every later revision, so the document
        # timestamps' own (of the revisions after each) would repeat part of it.
        document_timestamps = [
            _outside_event_loop(
                validate_pdf_timestamp, stamp, validation_context=_offline_context(timestamp_roots), skip_diff=True
            )
            for stamp in reader.embedded_timestamp_signatures
        ]
        padding_untouched = all(_padding_untouched(signature) for signature in reader.embedded_signatures)
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 (a mangled signature is a changed file, not a crash)
        logger.info("verify_pdf: signature of %s could not be validated: %s", digest, exc)
        return Verification(
            digest, readable=True, has_signature=True,
            problem=_("The signature could not be checked: the file was damaged or changed."),
        )
    intact = (
        status.intact
        and status.valid
        and _nothing_but_validation_data_added(status, reader, pdf_bytes)
        and len(embedded_signatures) == 1
        and padding_untouched
        and all(stamp.intact and stamp.valid for stamp in document_timestamps)
    )
    sealed = [stamp.timestamp for stamp in document_timestamps if stamp.trusted]
    timestamp = status.timestamp_validity
    problem = ""
    if not intact:
        problem = _("The file was changed after it was signed.")
    elif not status.trusted:
        problem = _("The signature is intact, but the certificate that made it is not the coalition's.")
    return Verification(
        digest,
        readable=True,
        has_signature=True,
        intact=intact,
        trusted=bool(status.trusted),
        signer_subject=status.signing_cert.subject.human_friendly,
        **_subject_in_words(status.signing_cert),
        signed_at=timestamp.timestamp if timestamp is not None else status.signer_reported_dt,
        timestamped=timestamp is not None,
        certificate_sha256=pdf_signing.fingerprint(status.signing_cert),
        problem=problem,
        ltv=intact and "/DSS" in reader.root and _long_term_valid(embedded, signer_roots, timestamp_roots),
        document_timestamp_at=max(sealed) if intact and sealed else None,
    )


def _subject_in_words(certificate: asn1_x509.Certificate) -> dict:
    words = pdf_signing.subject_in_words(certificate)
    return {"signer_name": words["name"], "signer_organisation": words["organisation"],
            "signer_country": words["country"]}


def _offline_context(roots: list[asn1_x509.Certificate]) -> ValidationContext:
    return ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")


def _nothing_but_validation_data_added(status, reader: PdfFileReader, pdf_bytes: bytes) -> bool:
    """The signature covers the whole file, or its own revision followed only by what PAdES
    allows under a certification signature that permits no change: a DSS (validation data) and
    document timestamps. pyHanko's difference analysis classifies every later revision; bytes
    after the last revision (which it does not see) are a change too."""
    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return True
    return (
        status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
        and status.modification_level in (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES)
        and bool(status.docmdp_ok)
        and _ends_with_last_revision(reader, pdf_bytes)
    )


_FILE_END = re.compile(rb"\s*(?:endobj\s*)?(?:trailer\s*<<.*?>>\s*)?startxref\s+(\d+)\s*%%EOF(?:\r\n|\r|\n)?", re.DOTALL)


def _ends_with_last_revision(reader: PdfFileReader, pdf_bytes: bytes) -> bool:
    """Nothing follows the last revision's cross-reference section but its startxref and %%EOF
    (and one end of line): appended bytes, even blank, make another file than the one signed."""
    last = reader.xrefs.get_xref_container_info(reader.xrefs.total_revisions - 1)
    tail = _FILE_END.fullmatch(pdf_bytes, last.end_location)
    return tail is not None and int(tail.group(1)) == last.start_location


def _long_term_valid(embedded, signer_roots, timestamp_roots) -> bool:
    """Whether the signature validates as PAdES B-LT/B-LTA (ETSI EN 319 102-1, 5.6.3) from what
    the file carries: every certificate below a root needs revocation information, and nothing
    is fetched. Only for a file `verify_pdf` found intact (its difference analysis is not
    repeated here)."""
    def policy(roots):
        return CertValidationPolicySpec(
            trust_manager=SimpleTrustManager.build(roots),
            revinfo_policy=certvalidator_policy.CertRevTrustPolicy(
                revocation_checking_policy=certvalidator_policy.REQUIRE_REVINFO,
                freshness_req_type=certvalidator_policy.FreshnessReqType.MAX_DIFF_REVOCATION_VALIDATION,
            ),
        )

    spec = PdfSignatureValidationSpec(SignatureValidationSpec(
        cert_validation_policy=policy(signer_roots),
        ts_cert_validation_policy=policy(timestamp_roots),
        revinfo_gathering_policy=RevocationInfoGatheringSpec(online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY),
    ), diff_policy=None)  # verify_pdf's difference analysis already accepted every later revision
    try:
        result = _outside_event_loop(asyncio.run, ades.ades_lta_validation(embedded, spec))
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 (validation data that cannot be read is no validation data)
        logger.info("verify_pdf: long-term validation failed: %s", exc)
        return False
    return result.ades_subindic == AdESPassed.OK
