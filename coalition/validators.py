"""Names and words people type that other people read: a signer's name and affiliation, a staff
member's name, an organisation's name and description, a statement's title.

They are printed in the PDF, on pages, in the CSV and in email subjects, so they may not carry:
- bidi controls (U+202A-U+202E, U+2066-U+2069, U+200E/U+200F, U+061C), which reverse what
  follows them and make a name read as another;
- other invisible or control characters (zero-width spaces, soft hyphens, a NUL, a line break in
  a one-line name);
- for names, affiliations and descriptions: web addresses, so the site's own email or page never
  carries a link a stranger typed ("Olena. URGENT: re-verify at https://evil.example/...").

One place answers, for every form and every service. `skeleton` and `confusable_names` tell
look-alike names apart from real ones (Unicode TR39 confusables, from confusable-homoglyphs):
"Truth Hоunds" with a Cyrillic о reads as "Truth Hounds".
"""

import functools
import re
import unicodedata
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Line and paragraph separators break a one-line name as a line feed would.
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
# A host name: labels joined by dots, the last of two or more letters ("evil.example", "bit.ly",
# "зміна.укр"); "Ph.D." and "J. R. Smith" are not. Matched against one word at a time, so the time
# taken grows with the text's length only.
_HOST = re.compile(r"[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,63}")
_HOST_BOUNDARY = re.compile(r"[/:?#@=&]")
_WORD_EDGES = "()[]{}<>\"'«»“”‘’„.,;:!?*_~|"
# A plain name shown in an email to an address not yet confirmed is cut to this many characters.
PLAIN_NAME_LENGTH = 60


def _is_invisible(char: str, *, multiline: bool) -> bool:
    if multiline and char in "\n\r\t":
        return False
    return char in BIDI_CONTROLS or unicodedata.category(char) in _INVISIBLE_CATEGORIES


def _check_characters(value: str, *, multiline: bool = False) -> None:
    if any(char in BIDI_CONTROLS for char in value):
        raise ValidationError(
            _("This contains a character that changes the direction of text (a bidi control). "
              "Type it again without it."), code="bidi")
    if any(_is_invisible(char, multiline=multiline) for char in value):
        raise ValidationError(
            _("This contains an invisible or control character. Type it again without it."),
            code="control")


def has_url(value: str) -> bool:
    """Whether a web or email address is written anywhere in `value`: a scheme ("https://",
    "mailto:"), "www.", an address (a@b.c) or a host name ("evil.example/login")."""
    return any(_is_address(word) for word in unicodedata.normalize("NFKC", value or "").casefold().split())


def _is_address(word: str) -> bool:
    word = word.strip(_WORD_EDGES)
    if "://" in word or word.startswith(("www.", "mailto:")):
        return True
    if "@" in word and "." in word.rpartition("@")[2]:
        return True
    return any(_HOST.fullmatch(part) for part in _HOST_BOUNDARY.split(word))


def validate_name(value: str) -> None:
    """A name or an affiliation: one line, no bidi or control characters, no web address."""
    _check_characters(value or "")
    if has_url(value):
        raise ValidationError(_("A name cannot contain a web address or an email address."), code="url")


def validate_description(value: str) -> None:
    """Several lines of plain words (an organisation's description): as a name, but lines may break."""
    _check_characters(value or "", multiline=True)
    if has_url(value):
        raise ValidationError(
            _("A description cannot contain a web address or an email address; "
              "the organisation's website has a field of its own."), code="url")


def validate_title(value: str) -> None:
    """A statement's title: no bidi or control characters (web addresses are allowed: a title may
    name one)."""
    _check_characters(value or "")


def plain_name(value: str) -> str:
    """A name as it may appear in an email to an address nobody has confirmed yet: web addresses,
    bidi and control characters removed, spaces collapsed, at most PLAIN_NAME_LENGTH characters.
    For names stored before validation was this strict, and as a second line of defence."""
    value = "".join(" " if _is_invisible(char, multiline=False) else char
                    for char in unicodedata.normalize("NFKC", value or ""))
    value = " ".join(word for word in value.split() if not has_url(word)).strip(" .,:;-")
    if len(value) > PLAIN_NAME_LENGTH:
        value = value[:PLAIN_NAME_LENGTH - 1].rstrip() + "…"
    return value


# Look-alikes -------------------------------------------------------------------------------------


@functools.cache
def _prototypes() -> dict[str, str]:
    """Each confusable character mapped to the character it is taken for (its TR39 prototype: "о"
    (Cyrillic) and "ο" (Greek) to "o", "0" to "O"). confusable-homoglyphs keeps the pairs both ways:
    a prototype lists its look-alikes, a look-alike lists its prototype alone; a pair that lists
    only each other gives the smaller character. One step only, never a chain of look-alikes of
    look-alikes, which would make most letters one."""
    # Imported here: its tables are read from JSON on import, which only name checks need.
    from confusable_homoglyphs.confusables import confusables_data

    prototypes = {}
    for char, homoglyphs in confusables_data.items():
        if len(char) != 1 or len(homoglyphs) != 1:
            continue  # a prototype itself (or a sequence): it stands for itself
        other = homoglyphs[0]["c"]
        if len(confusables_data.get(other, ())) > 1 or char > other:
            prototypes[char] = other
    return prototypes


@functools.lru_cache(maxsize=4096)
def skeleton(name: str) -> str:
    """What a name looks like, for comparing: compatibility-normalised, each character replaced by
    its prototype, case-folded, replaced again, and only letters and digits kept ("Truth Hоunds"
    with a Cyrillic о, "TRUTH-HOUNDS" and "Truth Hounds" have one skeleton)."""
    prototypes = _prototypes()
    mapped = "".join(prototypes.get(char, char) for char in unicodedata.normalize("NFKC", name or ""))
    mapped = "".join(prototypes.get(char, char) for char in mapped.casefold())
    return "".join(char for char in mapped.casefold() if char.isalnum())


def confusable_names(name: str, others: Iterable[str]) -> list[str]:
    """Those of `others` that `name` can be taken for: the same name, or the same skeleton."""
    mine = skeleton(name)
    if not mine:
        return []
    return [other for other in others if skeleton(other) == mine]


def mixes_scripts(name: str) -> bool:
    """Letters of more than one script with look-alikes among them ("Truth Hоunds"): a real name
    rarely does this, an impostor's often."""
    from confusable_homoglyphs import confusables  # as in _prototypes: loaded when first needed

    return bool(confusables.is_dangerous(name or ""))
