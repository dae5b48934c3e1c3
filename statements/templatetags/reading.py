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


@register.filter
def reader_link(url: str, text) -> str:
    """`url`, a statement's page, opening on the version `text` (a `ReaderText`) names: with
    `?lang=` when that is a translation. The page would choose by the browser's language, and a
    recipient may read the email on another device than the one whose language they set."""
    if not text.is_translation:
        return url
    return f"{url}{'&' if '?' in url else '?'}lang={text.language}"


@register.simple_tag
def read_statement(statement):
    """`read_in_language` for `statement`'s public text (the signed one once signing started, else
    the current one): what a page about the statement, not about its text, names it by."""
    revision = selectors.public_text(statement)
    return read_in_language(revision) if revision is not None else None
