"""The audit log in words, for the Events page: one sentence per event, in the reader's language.

`SENTENCES` maps every action code the code records to a translatable sentence whose named
placeholders are filled from the event's actor and data: "%(actor)s published issue %(issue)s". An
event recorded by the site itself (no actor) reads its `system` sentence where the action has one.
`extras` add a sentence for a data item that is there ("Reason: …"). Ids, hashes and email digests
in the data are never shown; organisations are named from their ids, in the reader's language, by
one query for the whole page. An action missing from the table reads a generic sentence, never its
code; `tests/test_human_pages.py` fails when the code records an action the table does not have.
"""

from dataclasses import dataclass, field

from django.utils import translation
from django.utils.dateparse import parse_datetime
from django.utils.text import capfirst
from django.utils.translation import gettext, gettext_lazy as _

from coalition import time_zones
from coalition.models import AuditEvent, Organisation


@dataclass(frozen=True)
class Sentence:
    person: str
    system: str | None = None
    extras: dict[str, str] = field(default_factory=dict)


NOTE = {"note": _("Note: “%(note)s”")}
REASON = {"reason": _("Reason given: “%(reason)s”")}

SENTENCES: dict[str, Sentence] = {
    "statement.created": Sentence(_("%(actor)s started the draft: revision %(revision)s, in %(language)s.")),
    "statement.edited": Sentence(_("%(actor)s saved revision %(revision)s, based on revision %(based_on)s."), extras={
        "signed_revision_replaced": _("It replaces revision %(signed_revision_replaced)s, the text open for "
                                      "signature: its signers were asked to confirm the new text."),
        **NOTE}),
    "statement.translated": Sentence(_("%(actor)s saved a translation into %(language)s: revision %(revision)s, "
                                       "of revision %(translation_of)s.")),
    "statement.commented": Sentence(_("%(actor)s commented on revision %(revision)s.")),
    "statement.comment_resolved": Sentence(_("%(actor)s marked a comment as resolved.")),
    "statement.opened": Sentence(_("%(actor)s opened revision %(revision)s for signature."), extras={
        "deadline": _("Signing deadline: %(deadline)s."),
        "allows_individuals": _("Individuals may sign too.")}),
    "statement.closed": Sentence(_("%(actor)s closed signing on revision %(revision)s."),
                                 system=_("Signing on revision %(revision)s closed at the deadline.")),
    "statement.reopened": Sentence(_("%(actor)s reopened revision %(revision)s for signature."), extras={
        "deadline": _("Signing deadline: %(deadline)s.")}),
    "statement.deadline_moved": Sentence(_("%(actor)s moved the signing deadline to %(deadline)s (before: "
                                           "%(previous_deadline)s).")),
    "statement.published": Sentence(_("%(actor)s published issue %(issue)s: revision %(revision)s."), extras={
        "public_from": _("Under embargo until %(public_from)s.")}),
    "statement.corrected": Sentence(_("%(actor)s published a correction: issue %(issue)s."), extras=NOTE),
    "statement.publication_retried": Sentence(_("%(actor)s tried again to make the signed PDF of issue %(issue)s.")),
    "statement.publication_released": Sentence(_("The signed PDF of issue %(issue)s was made and released."),
                                               system=_("The signed PDF of issue %(issue)s was made and released.")),
    "statement.withdrawn": Sentence(_("%(actor)s withdrew the statement."), extras=REASON),
    "statement.partner_invited": Sentence(_("%(actor)s invited %(organisation)s to sign as a partner.")),
    "statement.reminded": Sentence(_("%(actor)s reminded the organisations without an answer: %(organisations)s."),
                                   extras=NOTE),
    "statement.signatories_ordered": Sentence(_("%(actor)s set the order of the signatory organisations.")),
    "signature.signed": Sentence(_("%(organisation)s signed revision %(revision)s (signed by %(actor)s).")),
    "signature.withdrawn": Sentence(_("%(organisation)s withdrew its signature (withdrawn by %(actor)s).")),
    "signature.declined": Sentence(_("%(organisation)s declined to sign (answered by %(actor)s)."), extras=REASON),
    "signature.text_confirmed": Sentence(
        _("%(organisation)s confirmed its signature on the new text, revision %(revision)s (confirmed by "
          "%(actor)s)."),
        system=_("An individual confirmed their signature on the new text, revision %(revision)s.")),
    "signature.individual_signed": Sentence(
        _("An individual signed revision %(revision)s; their email address is not confirmed yet."),
        system=_("An individual signed revision %(revision)s; their email address is not confirmed yet.")),
    "signature.confirmed": Sentence(_("An individual confirmed their signature by email."),
                                    system=_("An individual confirmed their signature by email.")),
    "signature.hidden": Sentence(_("%(actor)s hid an individual’s signature from the public lists."), extras=REASON),
    "signature.erased": Sentence(_("An individual’s personal data was erased from their signature."),
                                 system=_("An individual’s personal data was erased from their signature.")),
    # Events on other objects than a statement: not on the Events page today, but in words all the same.
    "coalition.embed_origins_changed": Sentence(_("%(actor)s changed the list of sites that may embed the "
                                                  "coalition’s statements.")),
    "coalition.look_changed": Sentence(_("%(actor)s changed the coalition’s logo or colour.")),
    "email.retried": Sentence(_("%(actor)s sent a failed email again.")),
    "invitation.sent": Sentence(_("%(actor)s sent an invitation to %(email)s.")),
    "invitation.accepted": Sentence(_("%(actor)s accepted an invitation.")),
    "invitation.revoked": Sentence(_("%(actor)s revoked an invitation.")),
    "member.signing_granted": Sentence(_("%(actor)s gave %(email)s signing authority.")),
    "member.signing_withdrawn": Sentence(_("%(actor)s withdrew the signing authority of %(email)s.")),
    "member.removed": Sentence(_("%(actor)s took %(email)s off the organisation’s staff.")),
}
GENERIC = Sentence(_("%(actor)s made a change."), system=_("The site made a change."))

# Data that names a moment, and data that names organisations by id beside their name at the time.
MOMENTS = ("deadline", "previous_deadline", "public_from", "closed_at")


@dataclass(frozen=True)
class Line:
    """One event as the page shows it."""

    event: AuditEvent
    sentence: str
    details: list[str]


def _moment(value) -> str:
    moment = parse_datetime(value) if isinstance(value, str) else value
    return time_zones.format_moment(moment) if moment else gettext("not set")


def _language(code) -> str:
    """A language's name inside a sentence: "English" in English, «англійська» in Ukrainian (which,
    like most languages but English, writes it in lower case there)."""
    if not code:
        return ""
    try:
        name = translation.get_language_info(code)["name_translated"]
    except KeyError:
        return str(code)
    return name if (translation.get_language() or "").startswith("en") else name.lower()


def _organisation_names(events) -> dict[int, str]:
    ids = set()
    for event in events:
        ids.add(event.data.get("organisation_id"))
        ids.update(event.data.get("organisation_ids") or ())
    ids.discard(None)
    return {org.pk: getattr(org, "display_name", org.name) for org in Organisation.objects.filter(pk__in=ids)}


def _values(event: AuditEvent, names: dict[int, str]) -> dict:
    data = event.data
    actor = event.actor.get_full_name() if event.actor else event.actor_label
    if _by_site(event):
        actor = gettext("the site")
    values = {key: value for key, value in data.items() if isinstance(value, (str, int, float)) or value is None}
    values.update({key: _moment(data.get(key)) for key in MOMENTS})
    values["actor"] = actor
    values["language"] = _language(data.get("language"))
    values["organisation"] = names.get(data.get("organisation_id"), data.get("organisation") or gettext("an organisation"))
    listed = [names.get(pk, name) for pk, name in zip(data.get("organisation_ids") or (), data.get("organisations") or ())]
    values["organisations"] = ", ".join(listed or data.get("organisations") or ())
    return values


class _Missing(dict):
    def __missing__(self, key):
        return "…"


def _by_site(event: AuditEvent) -> bool:
    # A deleted account leaves its address in actor_label; only the site's own events say "system".
    return event.actor_id is None and event.actor_label in ("", "system")


def describe(event: AuditEvent, names: dict[int, str]) -> Line:
    entry = SENTENCES.get(event.action, GENERIC)
    values = _Missing(_values(event, names))
    template = entry.system if _by_site(event) and entry.system else entry.person
    details = [str(text) % values for key, text in entry.extras.items() if event.data.get(key)]
    return Line(event, capfirst(str(template) % values), details)


def describe_all(events) -> list[Line]:
    """The events in words, with every organisation they name read in one query."""
    events = list(events)
    names = _organisation_names(events)
    return [describe(event, names) for event in events]
