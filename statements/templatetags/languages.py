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
