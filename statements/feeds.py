"""The Atom feed of publications: one entry per issue that went public, corrections included."""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import linebreaks
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Publication

FEED_LENGTH = 50


class PublicationsFeed(Feed):
    feed_type = Atom1Feed
    title = gettext_lazy("Coalition Statements: published statements")
    subtitle = gettext_lazy("Each signed PDF issue of a statement, as it is published.")

    def link(self):
        return settings.SITE_URL + reverse("statement_list")

    def feed_url(self):
        return settings.SITE_URL + reverse("feed")

    def items(self):
        return (Publication.objects.public().select_related("revision", "statement__coalition")
                .order_by("-released_at", "-pk")[:FEED_LENGTH])

    def item_title(self, publication):
        if publication.number == 1:
            return publication.revision.title
        return _("%(title)s (correction, issue %(number)d)") % {"title": publication.revision.title,
                                                                "number": publication.number}

    def item_description(self, publication):
        # Atom readers take the summary as HTML (Django writes type="html"): the plain text
        # people typed is escaped here, so it reads as typed and no markup in it runs.
        note = publication.correction_note
        return linebreaks("\n\n".join(part for part in (publication.revision.summary, note) if part),
                          autoescape=True)

    def item_link(self, publication):
        return f"{settings.SITE_URL}{publication.statement.get_absolute_url()}#issue-{publication.number}"

    def item_pubdate(self, publication):
        return publication.released_at

    def item_updateddate(self, publication):
        return publication.released_at

    def item_author_name(self, publication):
        return publication.statement.coalition.name

    def item_enclosures(self, publication):
        from django.utils.feedgenerator import Enclosure

        url = f"{settings.SITE_URL}{reverse('statement_pdf', args=[publication.statement.slug])}?issue={publication.number}"
        return [Enclosure(url, str(_pdf_size(publication)), "application/pdf")]


def _pdf_size(publication) -> int:
    try:
        return publication.pdf.size
    except (OSError, ValueError):
        return 0
