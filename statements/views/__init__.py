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
from .publishing import CorrectStatement, RetryPublication, publication_pdf, root_certificate, short_link, verify
from .review import review_step
from .signing import (
    ConfirmSignatureView,
    RosterView,
    SignatureSentView,
    SignView,
    ConfirmNewText,
    DeclineToSign,
    HideSignature,
    InvitePartner,
    OrderSignatories,
    Remind,
    signatures_csv,
    WithdrawSignature,
)

__all__ = [
    "DashboardView", "RevisionDiffView", "RevisionHistoryView", "StatementCreateView", "StatementDetailView",
    "SignatoryListView", "StatementEditView", "StatementEventsView", "ArchiveView", "TranslationEditView", "AddComment",
    "CloseStatement", "MoveDeadline", "OpenStatement", "PublishStatement", "ReopenStatement", "ResolveComment",
    "review_step", "WithdrawStatement",
    "ConfirmSignatureView", "RosterView", "SignView", "SignatureSentView", "ConfirmNewText", "DeclineToSign",
    "HideSignature", "InvitePartner", "OrderSignatories", "Remind", "signatures_csv", "WithdrawSignature",
    "CorrectStatement", "publication_pdf", "RetryPublication", "root_certificate", "short_link", "verify",
]
