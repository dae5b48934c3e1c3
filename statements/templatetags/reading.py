"""Naming a statement in the reader's language where the page or message has no view to do it:
emails, rendered in their recipient's language (`outbox.render_message` activates it)."""

from django import template
from django.utils.translation import get_language

from .. import selectors

register = template.Library()


@register.simple_tag
def read_in_language(revision):
    """The `selectors.ReaderText` of `revision` (a statement's original text) for a reader of the
    active language: its current translation's title and summary, or the original's. Kept on the
    revision, so a message's subject, text and HTML parts, and every message of a fan-out in
    that language, ask the database once."""
    language = get_language()
    found = revision.__dict__.setdefault("_reader_texts", {})
    if language not in found:
        found[language] = selectors.reader_text_of(revision, language)
    return found[language]
