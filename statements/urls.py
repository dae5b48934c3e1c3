from django.urls import path

from . import views

urlpatterns = [
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("statements/", views.StatementListView.as_view(), name="statement_list"),
    path("statements/new/", views.StatementCreateView.as_view(), name="statement_create"),
    path("statements/<slug:slug>/", views.StatementDetailView.as_view(), name="statement_detail"),
    path("statements/<slug:slug>/edit/", views.StatementEditView.as_view(), name="statement_edit"),
    path("statements/<slug:slug>/translations/<str:language>/", views.TranslationEditView.as_view(),
         name="statement_translate"),
    path("statements/<slug:slug>/revisions/", views.RevisionHistoryView.as_view(), name="statement_history"),
    path("statements/<slug:slug>/diff/", views.RevisionDiffView.as_view(), name="statement_diff"),
    path("statements/<slug:slug>/events/", views.StatementEventsView.as_view(), name="statement_events"),
    path("statements/<slug:slug>/comments/", views.add_comment, name="comment_add"),
    path("statements/<slug:slug>/comments/<int:pk>/resolve/", views.resolve_comment, name="comment_resolve"),
    path("statements/<slug:slug>/open/", views.open_statement, name="statement_open"),
    path("statements/<slug:slug>/close/", views.close_statement, name="statement_close"),
    path("statements/<slug:slug>/publish/", views.publish_statement, name="statement_publish"),
    path("statements/<slug:slug>/withdraw/", views.withdraw_statement, name="statement_withdraw"),
]
