"""Statement pages (class-based views) and one-shot actions (POST functions)."""

from .actions import (
    add_comment,
    close_statement,
    move_deadline,
    open_statement,
    publish_statement,
    reopen_statement,
    resolve_comment,
    withdraw_statement,
)
from .archive import ArchiveView, OrganisationDetailView
from .dashboard import DashboardView
from .pages import (
    RevisionDiffView,
    SignatoryListView,
    RevisionHistoryView,
    StatementCreateView,
    StatementDetailView,
    StatementEditView,
    StatementEventsView,
    TranslationEditView,
)
from .publishing import correct_statement, publication_pdf, retry_publication, root_certificate, short_link, verify
from .review import review_step
from .signing import (
    ConfirmSignatureView,
    RosterView,
    SignatureSentView,
    SignView,
    confirm_new_text,
    decline_to_sign,
    hide_signature,
    invite_partner,
    order_signatories,
    remind,
    signatures_csv,
    withdraw_signature,
)

__all__ = [
    "DashboardView", "RevisionDiffView", "RevisionHistoryView", "StatementCreateView", "StatementDetailView",
    "SignatoryListView", "StatementEditView", "StatementEventsView", "ArchiveView", "TranslationEditView", "add_comment",
    "close_statement", "move_deadline", "open_statement", "publish_statement", "reopen_statement", "resolve_comment",
    "review_step", "withdraw_statement",
    "ConfirmSignatureView", "RosterView", "SignView", "SignatureSentView", "confirm_new_text", "decline_to_sign",
    "hide_signature", "invite_partner", "order_signatories", "remind", "signatures_csv", "withdraw_signature",
    "correct_statement", "publication_pdf", "retry_publication", "root_certificate", "short_link", "verify",
]
