"""Statements' use cases: one function per thing a person (or the site, on a schedule) does.

Each runs in one transaction, checks `coalition.permissions` and the state table
(`statements.workflow`), writes one audit event and queues its emails through `notifications`.
Callers write `from statements import services` and then `services.open_for_signature(...)`;
the modules say where each lives:

- `drafting`: statements, revisions, translations and comments before signing;
- `workflow`: opening for signature, closing, reopening, the deadline, publishing, withdrawing;
- `cosigning`: organisations and individuals signing, declining, confirming, reminders;
- `publishing`: the signed PDF's issues, made by a task and released at their time;
- `privacy`: erasing an individual signer's details at their request;
- `subscriptions`: the public's email subscriptions to new statements.

Functions whose names need their module to be clear (`publishing.retry`, `subscriptions.confirm`,
the `find_by_token` of each) are reached through it.
"""

from .cosigning import (
    Individual,
    ask_to_confirm_new_text,
    confirm_individual,
    confirm_new_text,
    decline,
    hide_signature,
    invite_partner,
    remind,
    set_signatory_order,
    sign_as_individual,
    sign_for_organisation,
    withdraw_signature,
)
from .drafting import (
    Draft,
    EditConflict,
    add_comment,
    add_translation,
    create_draft,
    latest_in_language,
    resolve_comment,
    save_revision,
)
from .privacy import erase, erase_signature, purge_unconfirmed, request_erasure, send_erasure_link
from .publishing import prepare, publish_correction, release, release_due, start_issue
from .subscriptions import subscribe
from .workflow import close_signing, move_deadline, open_for_signature, publish, reopen, withdraw

__all__ = [
    "Draft", "EditConflict", "Individual",
    # drafting
    "add_comment", "add_translation", "create_draft", "latest_in_language", "resolve_comment", "save_revision",
    # workflow
    "close_signing", "move_deadline", "open_for_signature", "publish", "reopen", "withdraw",
    # cosigning
    "ask_to_confirm_new_text", "confirm_individual", "confirm_new_text", "decline", "hide_signature",
    "invite_partner", "remind", "set_signatory_order", "sign_as_individual", "sign_for_organisation",
    "withdraw_signature",
    # publishing
    "prepare", "publish_correction", "release", "release_due", "start_issue",
    # privacy
    "erase", "erase_signature", "purge_unconfirmed", "request_erasure", "send_erasure_link",
    # subscriptions
    "subscribe",
]
