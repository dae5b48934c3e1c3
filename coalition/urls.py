from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from statements.views import ArchiveView, OrganisationDetailView
from statements.views import outbox as outbox_views

from . import account_views, look_views, notification_views, people_views, views

handler403 = "coalition.views.permission_denied"
# Both render without the request's data or context: a request that could not be decoded must
# not be read again, and a database outage must not be met again while answering it.
handler400 = "coalition.faults.bad_request"
handler500 = "coalition.faults.server_error"

# The admin signs in through the site's own sign-in, so its rate limits (and two-factor
# authentication) apply to the admin too.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", ArchiveView.as_view(front_page=True), name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("coalitions/<slug:slug>/", views.CoalitionDetailView.as_view(), name="coalition_detail"),
    path("coalitions/<slug:slug>/look/", look_views.CoalitionLook.as_view(), name="coalition_look"),
    path("coalitions/<slug:slug>/look-<str:version>.css", look_views.look_css, name="coalition_look_css"),
    path("coalitions/<slug:slug>/logo/<str:name>.<str:kind>", look_views.logo, name="coalition_logo"),
    path("coalitions/<slug:slug>/invitations/", views.InvitationsView.as_view(), name="invitations"),
    path("coalitions/<slug:slug>/people/", people_views.PeopleView.as_view(), name="coalition_people"),
    path("coalitions/<slug:slug>/people/<int:pk>/grant-signing/", people_views.GrantSigning.as_view(),
         name="coalition_people_grant_signing"),
    path("coalitions/<slug:slug>/people/<int:pk>/withdraw-signing/", people_views.WithdrawSigning.as_view(),
         name="coalition_people_withdraw_signing"),
    path("coalitions/<slug:slug>/people/<int:pk>/remove/", people_views.RemoveStaff.as_view(),
         name="coalition_people_remove"),
    path("coalitions/<slug:slug>/outbox/", outbox_views.OutboxProblemsView.as_view(), name="outbox_problems"),
    path("coalitions/<slug:slug>/outbox/<int:pk>/retry/", outbox_views.RetryEmail.as_view(), name="outbox_retry"),
    path("invitations/<int:pk>/revoke/", views.RevokeInvitation.as_view(), name="invitation_revoke"),
    path("invitations/<str:token>/", views.accept_invitation, name="invitation_accept"),
    path("organisations/", views.OrganisationListView.as_view(), name="organisation_list"),
    path("organisations/<slug:slug>/", OrganisationDetailView.as_view(), name="organisation_detail"),
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("i18n/language/<str:language>/", views.choose_language, name="choose_language"),
    path("unsubscribe/<str:token>/", notification_views.unsubscribe, name="unsubscribe"),
    path("accounts/notifications/", notification_views.NotificationPreferencesView.as_view(),
         name="notification_preferences"),
    path("accounts/time-zone/", account_views.TimeZoneView.as_view(), name="account_time_zone"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("", include("statements.urls")),
]
