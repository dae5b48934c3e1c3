"""Statement pages (class-based views) and one-shot actions (POST functions)."""

from .actions import (
    AddComment,
    CloseStatement,
    MoveDeadline,
    OpenStatement,
    PublishStatement,
    ReopenStatement,
    ResolveComment,
    WithdrawStatement,
)
from .archive import ArchiveView
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
from .publishing import CorrectStatement, RetryPublication, publication_pdf, root_certificate, short_link, verify
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
    "SignatoryListView", "StatementEditView", "StatementEventsView", "ArchiveView", "TranslationEditView", "AddComment",
    "CloseStatement", "MoveDeadline", "OpenStatement", "PublishStatement", "ReopenStatement", "ResolveComment",
    "review_step", "WithdrawStatement",
    "ConfirmSignatureView", "RosterView", "SignView", "SignatureSentView", "confirm_new_text", "decline_to_sign",
    "hide_signature", "invite_partner", "order_signatories", "remind", "signatures_csv", "withdraw_signature",
    "CorrectStatement", "publication_pdf", "RetryPublication", "root_certificate", "short_link", "verify",
]
