"""The statement's state machine.

    draft --open--> open --close--> closed --publish--> published --correct--> published (issue n+1)
      |               |  <--reopen--   |
      +---------------+----------------+--withdraw--> withdrawn

Who may take each transition is answered by `coalition.permissions` (only coordinators open, close,
publish, correct and withdraw); this module answers only "from which state". What each transition
freezes:

- open: the current revision becomes the revision to be signed, and the deadline is set;
- close: signing stops (it also stops at the deadline, whichever comes first);
- reopen: signing starts again on the same text, before anything is published (with a new
  deadline if the old one has passed);
- publish / correct: the signed text and its signatories become a numbered publication;
- withdraw: the statement stops, with a reason; a published one keeps its page, marked withdrawn.
"""

from enum import Enum

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Statement

Status = Statement.Status


class Transition(Enum):
    OPEN = "open"
    CLOSE = "close"
    REOPEN = "reopen"
    PUBLISH = "publish"
    CORRECT = "correct"
    WITHDRAW = "withdraw"

    @property
    def label(self) -> str:
        return str(LABELS[self])


LABELS = {
    Transition.OPEN: gettext_lazy("open for signature"),
    Transition.CLOSE: gettext_lazy("close signing"),
    Transition.REOPEN: gettext_lazy("reopen for signature"),
    Transition.PUBLISH: gettext_lazy("publish"),
    Transition.CORRECT: gettext_lazy("publish a correction"),
    Transition.WITHDRAW: gettext_lazy("withdraw"),
}

# transition -> (the states it may start from, the state it leads to)
RULES: dict[Transition, tuple[frozenset[str], str]] = {
    Transition.OPEN: (frozenset({Status.DRAFT}), Status.OPEN),
    Transition.CLOSE: (frozenset({Status.OPEN}), Status.CLOSED),
    Transition.REOPEN: (frozenset({Status.CLOSED}), Status.OPEN),
    Transition.PUBLISH: (frozenset({Status.CLOSED}), Status.PUBLISHED),
    Transition.CORRECT: (frozenset({Status.PUBLISHED}), Status.PUBLISHED),
    Transition.WITHDRAW: (frozenset({Status.DRAFT, Status.OPEN, Status.CLOSED, Status.PUBLISHED}), Status.WITHDRAWN),
}

# States in which the text may still change (by member staff in a draft, by coordinators while open).
EDITABLE = frozenset({Status.DRAFT, Status.OPEN})


def allowed(statement: Statement, transition: Transition) -> bool:
    return statement.status in RULES[transition][0]


def target(transition: Transition) -> str:
    return RULES[transition][1]


def check(statement: Statement, transition: Transition) -> str:
    """Return the state `transition` leads to, or raise ValidationError saying why it cannot
    happen from the statement's present state."""
    if not allowed(statement, transition):
        raise ValidationError(
            _("A statement that is “%(status)s” cannot be moved on with “%(transition)s”.")
            % {"status": statement.get_status_display(), "transition": transition.label},
            code="wrong_state",
        )
    return target(transition)


def available(statement: Statement) -> list[Transition]:
    return [transition for transition in Transition if allowed(statement, transition)]


def check_editable(statement: Statement) -> None:
    if statement.status not in EDITABLE:
        raise ValidationError(
            _("The text of a statement that is “%(status)s” can no longer change.")
            % {"status": statement.get_status_display()},
            code="not_editable",
        )
