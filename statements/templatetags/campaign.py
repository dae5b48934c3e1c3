"""{% share_statement statement title %}: the share block (statements/campaign.py's links); and
{% embed_snippet statement title %}: the <iframe> coordinators copy onto their own site."""

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.html import escape

from .. import campaign

register = template.Library()


@register.inclusion_tag("statements/_share.html")
def share_statement(statement, title: str) -> dict:
    url = settings.SITE_URL + statement.get_absolute_url()
    return {"share_url": url, "share_links": campaign.share_links(url, title), "email_link": campaign.email_link(url, title)}


@register.simple_tag
def embed_snippet(statement, title: str) -> str:
    """The HTML to paste, as text (a plain string: the template escapes it once more to show it)."""
    src = settings.SITE_URL + reverse("statement_embed", args=[statement.slug])
    return (f'<iframe src="{escape(src)}" title="{escape(title)}" width="400" height="260" loading="lazy"'
            ' style="border:0"></iframe>')
