"""A language named inside a sentence. Ukrainian puts the name in another form there than alone
(«англійська», but «перекласти англійською»), so each sentence has one string per language,
and a language added later falls back to the sentence with its name alone."""

from django import template
from django.conf import settings
from django.utils.translation import gettext, gettext_lazy

register = template.Library()

TRANSLATE_INTO = {"en": gettext_lazy("Translate into English"), "uk": gettext_lazy("Translate into Ukrainian")}
TRANSLATION_INTO = {"en": gettext_lazy("Translation into English"),
                    "uk": gettext_lazy("Translation into Ukrainian")}
# On a statement's page: read as a translation of an original in this language, or only in it.
TRANSLATED_FROM = {"en": gettext_lazy("Translation from English."), "uk": gettext_lazy("Translation from Ukrainian.")}
ORIGINAL_IN = {"en": gettext_lazy("Read the original in English"), "uk": gettext_lazy("Read the original in Ukrainian")}
# On the sign page, above the original shown to a reader who has a translation.
SIGNED_IN = {"en": gettext_lazy("What is signed is the original, in English."),
             "uk": gettext_lazy("What is signed is the original, in Ukrainian.")}
ONLY_IN = {"en": gettext_lazy("This statement is in English only."),
           "uk": gettext_lazy("This statement is in Ukrainian only.")}


def _name(code: str) -> str:
    return str(dict(settings.LANGUAGES).get(code, code))


@register.filter
def translate_into(code: str) -> str:
    """The button that starts a translation into `code`."""
    return str(TRANSLATE_INTO.get(code) or gettext("Translate into %(language)s") % {"language": _name(code)})


@register.filter
def translation_into(code: str) -> str:
    """The heading of the page that edits the translation into `code`."""
    return str(TRANSLATION_INTO.get(code) or gettext("Translation: %(language)s") % {"language": _name(code)})


@register.filter
def translated_from(code: str) -> str:
    """Said above a translation whose original is in `code`."""
    return str(TRANSLATED_FROM.get(code) or gettext("Translation from %(language)s.") % {"language": _name(code)})


@register.filter
def original_in(code: str) -> str:
    """The link from a translation to its original, in `code`."""
    return str(ORIGINAL_IN.get(code) or _name(code))


@register.filter
def only_in(code: str) -> str:
    """Said to a reader of another language when a statement has no version in theirs."""
    return str(ONLY_IN.get(code) or gettext("This statement is in %(language)s only.") % {"language": _name(code)})


@register.filter
def signed_in(code: str) -> str:
    """Said above the text to be signed, in `code`, to a reader who has a translation of it."""
    return str(SIGNED_IN.get(code) or gettext("What is signed is the original, in %(language)s.") % {"language": _name(code)})
