"""Names in every language of the site: a coalition's and an organisation's name and description,
kept beside the name in the original language (`name`, `description`) as
`{"uk": {"name": "...", "description": "..."}, ...}`, and the place a coalition publishes from, per
language (`{"en": "Kyiv", "uk": "Київ"}`).

A language is added by adding it to settings.LANGUAGES: nothing here names one. `name_in` is the one
way to read a name in a language; a language without a name of its own reads the original. Names
sort in the order of the language's alphabet (`sort_key`): Ukrainian puts «Ґ» after «Г», «Є» after
«Е», «І» and «Ї» after «И», where code-point order puts them before «А» or after «я», and its own
letters before Latin ones."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from .validators import validate_description, validate_name

NAME_MAX_LENGTH = 200
PLACE_MAX_LENGTH = 100
FIELDS = ("name", "description")

# Alphabets whose order Unicode's code points do not keep. A language not listed sorts by code
# point after case folding, which is right for English.
ALPHABETS = {
    "uk": "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя",
}
# Ignored when sorting, as dictionaries do: «Об’єднання» sorts as «Обєднання».
_IGNORED = "’'ʼ"


def languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def other_languages() -> list[str]:
    """The languages a name is kept for beside the original one (`name`)."""
    return [code for code in languages() if code != settings.LANGUAGE_CODE]


def active_language() -> str:
    return (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]


def name_in(original: str, translations: dict | None, language: str | None, field: str = "name") -> str:
    """`field` ("name" or "description") in `language` (the active one by default), or the
    original where that language has none."""
    language = (language or active_language()).split("-")[0]
    entry = (translations or {}).get(language)
    value = entry.get(field, "") if isinstance(entry, dict) else ""
    return value or original


def clean_translations(value) -> dict:
    """The stored form of names per language: a dict of known languages (not the original one,
    which is `name`) to a dict of name and description, each validated as the original is, empty
    values left out. Raises ValidationError naming the language and the problem."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ValidationError(_("Names per language must be an object of languages."), code="names_shape")
    known, cleaned = other_languages(), {}
    for language, entry in value.items():
        if language not in known:
            raise ValidationError(_("“%(language)s” is not one of the site’s other languages (%(known)s).")
                                  % {"language": language, "known": ", ".join(known)}, code="names_language")
        if not isinstance(entry, dict) or set(entry) - set(FIELDS):
            raise ValidationError(_("The names in %(language)s must have only a name and a description.")
                                  % {"language": language}, code="names_shape")
        cleaned_entry = {}
        for field in FIELDS:
            text = entry.get(field, "")
            if not isinstance(text, str):
                raise ValidationError(_("The names in %(language)s must be text.") % {"language": language},
                                      code="names_shape")
            text = text.strip()
            if field == "name" and len(text) > NAME_MAX_LENGTH:
                raise ValidationError(_("The name in %(language)s is longer than %(limit)d characters.")
                                      % {"language": language, "limit": NAME_MAX_LENGTH}, code="name_length")
            _validate(field, text, language)
            if text:
                cleaned_entry[field] = text
        if cleaned_entry:
            cleaned[language] = cleaned_entry
    return cleaned


def _validate(field: str, text: str, language: str) -> None:
    try:
        (validate_name if field == "name" else validate_description)(text)
    except ValidationError as exc:
        raise ValidationError(_("The %(field)s in %(language)s: %(problem)s")
                              % {"field": _("name") if field == "name" else _("description"),
                                 "language": language, "problem": " ".join(exc.messages)}, code=exc.code) from exc


def clean_places(value) -> dict:
    """A place of publication per language ({"en": "Kyiv", "uk": "Київ"}): known languages, one
    line each, empty ones left out."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ValidationError(_("Places per language must be an object of languages."), code="places_shape")
    known, cleaned = languages(), {}
    for language, place in value.items():
        if language not in known:
            raise ValidationError(_("“%(language)s” is not one of the site’s languages (%(known)s).")
                                  % {"language": language, "known": ", ".join(known)}, code="places_language")
        if not isinstance(place, str) or len(place.strip()) > PLACE_MAX_LENGTH:
            raise ValidationError(_("The place in %(language)s must be text of at most %(limit)d characters.")
                                  % {"language": language, "limit": PLACE_MAX_LENGTH}, code="place_length")
        try:
            validate_name(place)
        except ValidationError as exc:
            raise ValidationError(_("The place in %(language)s: %(problem)s")
                                  % {"language": language, "problem": " ".join(exc.messages)}, code=exc.code) from exc
        if place.strip():
            cleaned[language] = place.strip()
    return cleaned


def sort_key(name: str, language: str | None = None) -> str | tuple[int, ...]:
    """How names are put in alphabetical order in `language` (the active one by default):
    case-blind, ignoring opening quotes and other marks before the first letter (‘Almenda’ goes
    under A) and apostrophes. A language with an alphabet of its own (ALPHABETS) puts its letters
    first, in its order, and other scripts' letters after them, as its dictionaries and CLDR's
    collation for it do (Ukrainian: Cyrillic, then Latin)."""
    start = next((i for i, char in enumerate(name) if char.isalnum()), 0)
    folded = "".join(char for char in name[start:].casefold() if char not in _IGNORED)
    alphabet = ALPHABETS.get((language or active_language()).split("-")[0])
    if not alphabet:
        return folded
    position = {char: i for i, char in enumerate(alphabet)}
    # Spaces, digits and marks first (as they are), then the alphabet's letters, then the rest.
    return tuple(_LETTERS + position[char] if char in position
                 else _OTHER_LETTERS + ord(char) if char.isalpha() else min(ord(char), _LETTERS - 1)
                 for char in folded)


_LETTERS, _OTHER_LETTERS = 0x1000, 0x2000
