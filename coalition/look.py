"""A coalition's look: its logo and accent colour, set by its coordinators.

The logo is an SVG or a PNG. An SVG is passed through svg-hush (Cloudflare's allow-list SVG
filter, `py-svg-hush`): it keeps only known SVG elements and attributes and drops scripts, event
handlers, `foreignObject`, `javascript:`, `data:` and every reference outside the file. What is
left may still name a path of this site (svg-hush turns an external address into a local one),
so `<image>` elements that are not `data:` images are removed after it (lxml, no entities, no
network), and the file is refused if it is not an SVG at all. A PNG is read by Pillow and written
again, which drops whatever it carried besides pixels. Either is stored in the default storage
(S3 in production) under a name made of its hash, and served by the site itself
(`coalition_logo`), because the storage's objects are private.

The accent colour is drawn behind white text (buttons, the header's rule), so it must reach the
WCAG AA contrast of 4.5:1 against white; a lighter one is refused with a darker shade suggested.
"""

import hashlib
import io
import re

from botocore.exceptions import BotoCoreError, ClientError
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _
from lxml import etree

MAX_LOGO_BYTES = 512 * 1024
MAX_PNG_SIDE = 2000
MIN_CONTRAST = 4.5
HEX = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
CONTENT_TYPES = {"svg": "image/svg+xml", "png": "image/png"}
# What the storage can raise: a local file missing or unwritable, or an object store that refuses,
# cannot be reached or has no such object (as statements/storage.py's READ_ERRORS).
STORAGE_ERRORS: tuple[type[Exception], ...] = (OSError, BotoCoreError, ClientError)


# -- the accent colour -------------------------------------------------------------------------

def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def _rgb(colour: str) -> tuple[int, int, int]:
    digits = colour.lstrip("#")
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def contrast_with_white(colour: str) -> float:
    """WCAG 2 contrast ratio of white on `colour` (#rrggbb)."""
    r, g, b = (_channel(v) for v in _rgb(colour))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return 1.05 / (luminance + 0.05)


def darker(colour: str, factor: float) -> str:
    return "#" + "".join(f"{round(v * factor):02x}" for v in _rgb(colour))


def tint(colour: str, amount: float) -> str:
    """`colour` mixed with white: `amount` 0 is the colour, 1 is white."""
    return "#" + "".join(f"{round(v + (255 - v) * amount):02x}" for v in _rgb(colour))


def passing_shade(colour: str) -> str:
    """The lightest shade of `colour` (same hue, scaled toward black) white text reads on."""
    factor = 1.0
    while contrast_with_white(darker(colour, factor)) < MIN_CONTRAST:
        factor -= 0.02
    return darker(colour, factor)


def clean_accent(value: str) -> str:
    """A colour as #rrggbb in lower case, or "" (the site's own); refused if not a hex colour or
    if white text on it is below 4.5:1."""
    value = (value or "").strip()
    if not value:
        return ""
    match = HEX.match(value)
    if not match:
        raise ValidationError(_("Give the colour as a hex code such as #0b4f8a."), code="accent_format")
    digits = match.group(1).lower()
    colour = "#" + ("".join(c * 2 for c in digits) if len(digits) == 3 else digits)
    ratio = contrast_with_white(colour)
    if ratio < MIN_CONTRAST:
        raise ValidationError(
            _("White text on %(colour)s has a contrast of %(ratio).1f:1; at least 4.5:1 is needed for people "
              "to read buttons and headings on it. A darker shade such as %(shade)s works."),
            code="accent_contrast", params={"colour": colour, "ratio": ratio, "shade": passing_shade(colour)})
    return colour


def validate_accent(value: str) -> None:
    clean_accent(value)


# -- the logo ----------------------------------------------------------------------------------

def _svg_refused() -> ValidationError:
    return ValidationError(_("This file is not an SVG image that can be used as a logo."), code="logo_svg")


def _without_outside_images(svg: bytes) -> bytes:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(svg, parser)
    except etree.XMLSyntaxError as error:
        raise _svg_refused() from error
    if root.tag != f"{{{SVG_NS}}}svg":
        raise _svg_refused()
    for image in root.iter(f"{{{SVG_NS}}}image"):
        href = image.get("href") or image.get(XLINK_HREF) or ""
        if not href.startswith("data:image/"):
            image.getparent().remove(image)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def sanitise_svg(data: bytes) -> bytes:
    """The SVG with nothing that runs or reaches outside it; ValidationError if it is not one."""
    import py_svg_hush  # a compiled extension used only here, on upload

    try:
        filtered = py_svg_hush.filter_svg(data)
    except Exception as error:  # noqa: BLE001 (its parse errors carry no common type)
        raise _svg_refused() from error
    return _without_outside_images(filtered)


def clean_png(data: bytes) -> bytes:
    """The PNG's pixels written again as a PNG (no metadata, no trailing data)."""
    from PIL import Image, UnidentifiedImageError  # Pillow is loaded only by the few requests that upload a logo

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG":
                raise ValidationError(_("Upload an SVG or PNG image."), code="logo_type")
            if max(image.size) > MAX_PNG_SIDE:
                raise ValidationError(_("The image is larger than %(side)s pixels on a side."),
                                      code="logo_size", params={"side": MAX_PNG_SIDE})
            image.load()
            out = io.BytesIO()
            image.convert("RGBA" if "A" in image.getbands() or image.mode == "P" else "RGB").save(out, "PNG", optimize=True)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ValidationError(_("Upload an SVG or PNG image."), code="logo_type") from error
    return out.getvalue()


def clean_logo(upload) -> tuple[bytes, str]:
    """An uploaded file as (clean bytes, "svg" or "png"); ValidationError for anything else."""
    if upload.size > MAX_LOGO_BYTES:
        raise ValidationError(_("The logo may be at most %(size)s KB."), code="logo_size",
                              params={"size": MAX_LOGO_BYTES // 1024})
    data = upload.read(MAX_LOGO_BYTES + 1)
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return clean_png(data), "png"
    head = data[:1024].lstrip().lower()
    if head.startswith(b"<?xml") or head.startswith(b"<svg") or head.startswith(b"<!--"):
        return sanitise_svg(data), "svg"
    raise ValidationError(_("Upload an SVG or PNG image."), code="logo_type")


def logo_kind(name: str) -> str:
    return name.rsplit(".", 1)[-1] if name else ""


def read_logo(coalition) -> bytes | None:
    """The stored logo's bytes, or None (none set, or the storage cannot be read)."""
    if not coalition.logo:
        return None
    try:
        with default_storage.open(coalition.logo, "rb") as stored:
            return stored.read()
    except STORAGE_ERRORS:
        return None


# -- storing the logo ------------------------------------------------------------------------

def store_logo(coalition, data: bytes, kind: str) -> str:
    """Stores a cleaned logo under a name made of its hash (kept if already there)."""
    name = f"coalitions/{coalition.pk}/logo-{hashlib.sha256(data).hexdigest()[:20]}.{kind}"
    if not default_storage.exists(name):
        name = default_storage.save(name, ContentFile(data))
    return name
