"""The signatory list a published PDF carries inside it (`signatories.json`), read back for
/verify/ and the API.

A published file never changes, so what it carries is cached by the file's SHA-256, for good:
the API does not parse a PDF on every request. The cache is an optimisation: when it cannot be
reached, the file is read instead.
"""

import logging
from dataclasses import dataclass

from django.core.cache import cache

from . import pdf, storage
from .services import publishing
from .models import Publication

log = logging.getLogger(__name__)

CACHE_PREFIX = "pdf-signatories:"
NOTHING = "none"  # cached for a file that carries no list (the cache cannot hold None)


def _cached(sha256: str):
    try:
        return cache.get(CACHE_PREFIX + sha256)
    except Exception:  # noqa: BLE001 (any cache failure: read the file instead)
        log.warning("Cache unavailable reading the signatory list of %s", sha256, exc_info=True)
        return None


def _remember(sha256: str, value) -> None:
    try:
        cache.set(CACHE_PREFIX + sha256, value, timeout=None)
    except Exception:  # noqa: BLE001
        log.warning("Cache unavailable storing the signatory list of %s", sha256, exc_info=True)


def carried_signatories(publication: Publication) -> dict | None:
    """The signatory list the issue's stored PDF carries, or None (no file yet, an issue made
    before files carried one, or the stored file cannot be read)."""
    if not publication.sha256:
        return None
    cached = _cached(publication.sha256)
    if cached is not None:
        return None if cached == NOTHING else cached
    try:
        with publication.pdf.open("rb") as stored:
            carried = pdf.embedded_signatories(stored.read())
    except (*storage.READ_ERRORS, ValueError):
        log.exception("The stored PDF of publication %s cannot be read", publication.pk)
        return None
    _remember(publication.sha256, NOTHING if carried is None else carried)
    return carried


def matches_issue(carried: dict | None, publication: Publication) -> bool:
    """Whether a file's signatory list is exactly the issue's: the same statement, issue and
    text, the same organisations (with what each signed and when) and individuals, in order."""
    return carried is not None and carried == pdf.signatory_list(publishing.document(publication))


@dataclass(frozen=True)
class CarriedList:
    """What an issue's file lists inside it, and whether that is exactly the issue's list."""

    signatories: dict
    matches: bool


def carried_list(publication: Publication) -> CarriedList | None:
    """The list the issue's file carries, checked against the issue (None if it carries none)."""
    carried = carried_signatories(publication)
    return None if carried is None else CarriedList(carried, matches_issue(carried, publication))
