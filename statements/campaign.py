"""A campaign people can find, share and embed (issue 16): the statements open to individuals as
the front page and archive list them, the share links after signing, the preview image of a
statement for link previews (Open Graph). Which sites may frame the embed page is
coalition.origins'."""

import io
import math
import textwrap
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Signature, Statement

Status = Statement.Status


# Finding open statements ------------------------------------------------------------------------

def open_to_individuals() -> QuerySet:
    """Statements anyone may read and sign (the statement page's rule: open, individuals may sign)
    whose deadline, if any, is still to come; soonest deadline first, those without one last. Each
    has `signature_count`: what its page counts (organisations and confirmed individuals on the
    text to be signed), in the same query."""
    on_text = Q(signatures__revision=F("signed_revision"), signatures__withdrawn_at__isnull=True)
    counted = on_text & (Q(signatures__kind=Signature.Kind.ORGANISATION) | Q(
        signatures__kind=Signature.Kind.INDIVIDUAL, signatures__confirmed_at__isnull=False,
        signatures__hidden_at__isnull=True))
    return (Statement.objects.filter(status=Status.OPEN, allows_individuals=True)
            .filter(Q(deadline__isnull=True) | Q(deadline__gt=timezone.now()))
            .select_related("coalition", "current_revision", "signed_revision")
            .annotate(signature_count=Count("signatures", filter=counted))
            .order_by(F("deadline").asc(nulls_last=True), "-opened_at"))


def is_campaign(statement: Statement) -> bool:
    """Open to anyone's signature: the page offers to sign and to share."""
    return statement.status == Status.OPEN and statement.allows_individuals


# Sharing ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ShareLink:
    name: str
    url: str


def share_links(url: str, title: str) -> list[ShareLink]:
    """Plain links to the services' own share pages (no script of theirs on ours): each opens the
    service with the statement's address and title filled in. Signal has no such web address (its
    signal.me links open a chat with a person or a group, not a message), so the page says to copy
    the address instead."""
    text = f"{title} {url}"
    return [
        ShareLink("Telegram", "https://t.me/share/url?" + urlencode({"url": url, "text": title}, quote_via=quote)),
        ShareLink("WhatsApp", "https://wa.me/?" + urlencode({"text": text}, quote_via=quote)),
        ShareLink("Facebook", "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url}, quote_via=quote)),
        ShareLink("X", "https://x.com/intent/post?" + urlencode({"url": url, "text": title}, quote_via=quote)),
    ]


def email_link(url: str, title: str) -> str:
    """A mailto: link with the subject and body filled in (RFC 6068: spaces as %20, not +)."""
    body = _("I signed this statement. You can read it and sign it too:") + f"\n\n{title}\n{url}\n"
    return "mailto:?" + urlencode({"subject": title, "body": body}, quote_via=quote)


# The preview image ------------------------------------------------------------------------------

WIDTH, HEIGHT = 1200, 630
FONTS = Path(settings.BASE_DIR) / "static" / "fonts"


def count_step(count: int) -> int:
    """`count` rounded down to a step a reader would notice: 0, 1, 2, 5, 10, 20, 50, 100, ... The
    preview image is made again only when the count passes one."""
    if count < 1:
        return 0
    magnitude = 10 ** int(math.log10(count))
    return max(step * magnitude for step in (1, 2, 5) if step * magnitude <= count)


@lru_cache(maxsize=8)
def _font(name: str, size: int):
    from PIL import ImageFont  # Pillow is loaded only by the few requests that draw

    return ImageFont.truetype(str(FONTS / name), size)


def _wrapped(draw, text: str, font, width: int, max_lines: int) -> list[str]:
    """`text` in lines no wider than `width` pixels, at most `max_lines` (the last ends in …)."""
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if draw.textlength(candidate, font=font) <= width or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and draw.textlength(last + "…", font=font) > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return lines


def preview_png(*, title: str, coalition: str, line: str, site: str) -> bytes:
    """A 1200×630 PNG for link previews: the title (wrapped, at most four lines), the coalition's
    name, and `line` (the signature count, or when it was published), in the bundled Noto fonts
    (Latin and Cyrillic)."""
    from PIL import Image, ImageDraw  # as in _font: only the requests that draw load Pillow

    image = Image.new("RGB", (WIDTH, HEIGHT), "#fbfaf7")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 24, HEIGHT), fill="#1d4e89")
    margin, width = 80, WIDTH - 160
    draw.text((margin, 64), textwrap.shorten(coalition, 70, placeholder="…"), font=_font("NotoSans-Bold.ttf", 34),
              fill="#1d4e89")
    title_font = _font("NotoSerif-Bold.ttf", 60)
    y = 140
    for text_line in _wrapped(draw, title, title_font, width, 4):
        draw.text((margin, y), text_line, font=title_font, fill="#1a1a1a")
        y += 76
    draw.line((margin, HEIGHT - 130, WIDTH - margin, HEIGHT - 130), fill="#d6d2c8", width=2)
    draw.text((margin, HEIGHT - 105), line, font=_font("NotoSans-Bold.ttf", 40), fill="#1a1a1a")
    draw.text((WIDTH - margin, HEIGHT - 95), site, font=_font("NotoSans-Regular.ttf", 28), fill="#5c5c5c",
              anchor="ra")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def signature_count(statement: Statement) -> int:
    """What the statement's page counts: organisations and confirmed individuals on the text to be signed."""
    return Signature.objects.counted().filter(statement=statement, revision_id=statement.signed_revision_id).count()
