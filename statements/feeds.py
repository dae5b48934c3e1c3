"""The Atom feed of publications: one entry per issue that went public, corrections included.

An entry says what its issue stands for today (`selectors.IssueStatus`): a withdrawn statement's
entries are titled "Withdrawn: …" with the reason in their summary, a superseded issue names the
issue that replaced it, and the entry's `updated` time moves to when that happened, so readers
that already hold the entry fetch it again.
"""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Enclosure
from django.utils import formats, timezone
from django.utils.html import linebreaks
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import selectors, storage
from .models import Publication

FEED_LENGTH = 50


class LanguageTaggedAtom1Feed(Atom1Feed):
    """Atom whose entries say their own language (`xml:lang`) where it is not the feed's: an
    issue read in its original because no current translation into the feed's language exists."""

    def item_attributes(self, item):
        attributes = super().item_attributes(item)
        if item.get("language") and item["language"] != self.feed["language"]:
            attributes["xml:lang"] = item["language"]
        return attributes


class PublicationsFeed(Feed):
    feed_type = LanguageTaggedAtom1Feed
    title = gettext_lazy("Coalition Statements: published statements")
    subtitle = gettext_lazy("Each signed PDF issue of a statement, as it is published.")

    def link(self):
        return settings.SITE_URL + reverse("statement_list")

    def feed_url(self):
        return settings.SITE_URL + reverse("feed")

    def items(self):
        publications = list(Publication.objects.public().select_related("revision", "statement__coalition")
                            .defer("signatories").order_by("-released_at", "-pk")[:FEED_LENGTH])
        statuses = selectors.statuses_of(publications)
        # The feed is in the request's language: an issue's title and summary are its text's
        # translation into it where one translates exactly the text published (one query).
        language = get_language() or settings.LANGUAGE_CODE
        translated = selectors.latest_translations(
            {p.statement_id for p in publications if p.statement.primary_language != language}, language, text=False)
        for publication in publications:
            publication.issue_status = statuses[publication.pk]
            translation = translated.get(publication.statement_id)
            current = translation is not None and translation.translation_of_id == publication.revision_id
            publication.reader_revision = translation if current else publication.revision
        return publications

    def item_title(self, publication):
        title = publication.reader_revision.title
        if publication.number > 1:
            title = _("%(title)s (correction, issue %(number)d)") % {"title": title, "number": publication.number}
        status = publication.issue_status
        if status.state == selectors.IssueState.WITHDRAWN:
            return _("Withdrawn: %(title)s") % {"title": title}
        if status.state == selectors.IssueState.SUPERSEDED:
            return _("%(title)s (superseded by issue %(number)d)") % {"title": title,
                                                                      "number": status.superseded_by.number}
        return title

    def item_description(self, publication):
        # Atom readers take the summary as HTML (Django writes type="html"): the plain text
        # people typed is escaped here, so it reads as typed and no markup in it runs.
        return linebreaks("\n\n".join(part for part in _summary_parts(publication) if part), autoescape=True)

    def item_link(self, publication):
        return f"{settings.SITE_URL}{publication.statement.get_absolute_url()}#issue-{publication.number}"

    def item_pubdate(self, publication):
        return publication.released_at

    def item_updateddate(self, publication):
        status = publication.issue_status
        if status.state == selectors.IssueState.WITHDRAWN:
            return max(publication.released_at, status.withdrawn_at or publication.released_at)
        if status.superseded_by:
            return status.superseded_by.released_at
        return publication.released_at

    def item_extra_kwargs(self, publication):
        return {**super().item_extra_kwargs(publication), "language": publication.reader_revision.language}

    def item_author_name(self, publication):
        return publication.statement.coalition.display_name

    def item_enclosures(self, publication):
        url = f"{settings.SITE_URL}{reverse('statement_pdf', args=[publication.statement.slug])}?issue={publication.number}"
        return [Enclosure(url, str(_pdf_size(publication)), "application/pdf")]


def _summary_parts(publication) -> list[str]:
    status = publication.issue_status
    parts = []
    if status.state == selectors.IssueState.WITHDRAWN and status.withdrawn_at:
        when = formats.date_format(timezone.localtime(status.withdrawn_at), "j E Y")
        parts.append(_("The coalition withdrew this statement on %(date)s. The reason given: %(reason)s")
                     % {"date": when, "reason": status.reason})
    elif status.state == selectors.IssueState.WITHDRAWN:
        parts.append(_("The coalition withdrew this statement. The reason given: %(reason)s")
                     % {"reason": status.reason})
    if status.superseded_by:
        parts.append(_("Superseded by issue %(number)d.") % {"number": status.superseded_by.number})
    return [*parts, publication.reader_revision.summary, publication.correction_note]


def _pdf_size(publication) -> int:
    try:
        return publication.pdf.size
    except (*storage.READ_ERRORS, ValueError):
        return 0
