"""{% share_statement statement title %}: the share block (statements/campaign.py's links); and
{% embed_snippet statement title %}: the <iframe> coordinators copy onto their own site."""

from functools import lru_cache

from django import template
from django.conf import settings
from django.urls import reverse
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.translation import get_language, override

from .. import campaign

register = template.Library()


@register.simple_tag
def share_statement(statement, title: str) -> str:
    return _share_block(settings.SITE_URL + statement.get_absolute_url(), title, get_language() or settings.LANGUAGE_CODE)


@lru_cache(maxsize=1024)
def _share_block(url: str, title: str, language: str) -> str:
    """The share block follows from the address, the title and the reader's language alone, the
    same for every reader: each process makes it once (a statement page open for signature is the
    one a campaign sends everyone to)."""
    with override(language):
        return render_to_string("statements/_share.html", {
            "share_url": url, "share_links": campaign.share_links(url, title), "email_link": campaign.email_link(url, title)})


@register.simple_tag
def embed_snippet(statement, title: str) -> str:
    """The HTML to paste, as text (a plain string: the template escapes it once more to show it)."""
    src = settings.SITE_URL + reverse("statement_embed", args=[statement.slug])
    return (f'<iframe src="{escape(src)}" title="{escape(title)}" width="400" height="260" loading="lazy"'
            ' style="border:0"></iframe>')
