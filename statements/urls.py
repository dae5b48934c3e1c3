from django.urls import path
from django.views.decorators.http import require_GET

from coalition.caching import cache_public_page

from . import api, feeds, views
from .views import campaign, discovery, privacy, subscriptions, transparency

urlpatterns = [
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("statements/", views.ArchiveView.as_view(), name="statement_list"),
    # The public archive's other doors
    path("feed/", cache_public_page(require_GET(feeds.PublicationsFeed())), name="feed"),
    path("api/statements/", api.statement_list, name="api_statements"),
    path("api/statements/<slug:slug>/", api.statement_detail, name="api_statement"),
    path("api/statements/<slug:slug>/signatories/", api.statement_signatories, name="api_statement_signatories"),
    path("sitemap.xml", discovery.sitemap, name="sitemap"),
    path("robots.txt", discovery.robots_txt, name="robots_txt"),
    # Public subscription to new publications (unsubscribing is /unsubscribe/<token>/)
    path("subscribe/", subscriptions.SubscribeView.as_view(), name="subscribe"),
    path("subscribe/sent/", subscriptions.SubscriptionSentView.as_view(), name="subscription_sent"),
    path("subscribe/confirm/<str:token>/", subscriptions.ConfirmSubscriptionView.as_view(),
         name="subscription_confirm"),
    # Individuals' personal data: what is kept, and erasing one's signatures
    path("privacy/", privacy.PrivacyView.as_view(), name="privacy"),
    path("privacy/erase/", privacy.ErasureRequestView.as_view(), name="privacy_erase"),
    path("privacy/erase/sent/", privacy.ErasureSentView.as_view(), name="privacy_erase_sent"),
    path("privacy/erase/<str:token>/", privacy.ErasureConfirmView.as_view(), name="privacy_erase_confirm"),
    path("statements/new/", views.StatementCreateView.as_view(), name="statement_create"),
    path("statements/<slug:slug>/", views.StatementDetailView.as_view(), name="statement_detail"),
    path("statements/<slug:slug>/preview.<str:language>.png", campaign.preview_image, name="statement_preview"),
    path("statements/<slug:slug>/embed/", campaign.embed, name="statement_embed"),
    path("coalitions/<slug:slug>/embedding/", campaign.CoalitionEmbedding.as_view(), name="coalition_embedding"),
    path("statements/<slug:slug>/signatories/", views.SignatoryListView.as_view(), name="statement_signatories"),
    path("statements/<slug:slug>/edit/", views.StatementEditView.as_view(), name="statement_edit"),
    path("statements/<slug:slug>/translations/<str:language>/", views.TranslationEditView.as_view(),
         name="statement_translate"),
    path("statements/<slug:slug>/revisions/", views.RevisionHistoryView.as_view(), name="statement_history"),
    path("statements/<slug:slug>/diff/", views.RevisionDiffView.as_view(), name="statement_diff"),
    path("statements/<slug:slug>/events/", views.StatementEventsView.as_view(), name="statement_events"),
    path("statements/<slug:slug>/comments/", views.AddComment.as_view(), name="comment_add"),
    path("statements/<slug:slug>/comments/<int:pk>/resolve/", views.ResolveComment.as_view(), name="comment_resolve"),
    path("statements/<slug:slug>/open/", views.OpenStatement.as_view(), name="statement_open"),
    path("statements/<slug:slug>/close/", views.CloseStatement.as_view(), name="statement_close"),
    path("statements/<slug:slug>/reopen/", views.ReopenStatement.as_view(), name="statement_reopen"),
    path("statements/<slug:slug>/deadline/", views.MoveDeadline.as_view(), name="statement_deadline"),
    path("statements/<slug:slug>/review/<slug:action>/", views.review_step, name="statement_review"),
    path("statements/<slug:slug>/publish/", views.PublishStatement.as_view(), name="statement_publish"),
    path("statements/<slug:slug>/withdraw/", views.WithdrawStatement.as_view(), name="statement_withdraw"),
    # Publishing
    path("statements/<slug:slug>/pdf/", views.publication_pdf, name="statement_pdf"),
    path("statements/<slug:slug>/correct/", views.CorrectStatement.as_view(), name="statement_correct"),
    path("statements/<slug:slug>/issues/<int:number>/retry/", views.RetryPublication.as_view(), name="publication_retry"),
    path("verify/", views.verify, name="verify"),
    path("verify/root.pem", views.root_certificate, name="verify_root"),
    path("transparency/", transparency.TransparencyView.as_view(), name="transparency"),
    path("v/<int:pk>/", views.short_link, name="short_link"),
    # Signing
    path("statements/<slug:slug>/sign/", views.SignView.as_view(), name="statement_sign"),
    path("statements/<slug:slug>/sign/sent/", views.SignatureSentView.as_view(), name="signature_sent"),
    path("statements/<slug:slug>/sign/confirm/<str:token>/", views.ConfirmSignatureView.as_view(),
         name="signature_confirm"),
    path("statements/<slug:slug>/decline/", views.DeclineToSign.as_view(), name="statement_decline"),
    path("statements/<slug:slug>/signatures/<int:pk>/withdraw/", views.WithdrawSignature.as_view(), name="signature_withdraw"),
    path("statements/<slug:slug>/signatures/<int:pk>/confirm-text/", views.ConfirmNewText.as_view(),
         name="signature_confirm_text"),
    path("statements/<slug:slug>/signatures/<int:pk>/hide/", views.HideSignature.as_view(), name="signature_hide"),
    path("statements/<slug:slug>/roster/", views.RosterView.as_view(), name="statement_roster"),
    path("statements/<slug:slug>/partners/", views.InvitePartner.as_view(), name="statement_invite_partner"),
    path("statements/<slug:slug>/signatory-order/", views.OrderSignatories.as_view(), name="statement_signatory_order"),
    path("statements/<slug:slug>/remind/", views.Remind.as_view(), name="statement_remind"),
    path("statements/<slug:slug>/remind/<slug:organisation>/", views.Remind.as_view(), name="statement_remind_organisation"),
    path("statements/<slug:slug>/signatures.csv", views.signatures_csv, name="statement_signatures_csv"),
]
