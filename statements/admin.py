from django.contrib import admin

from coalition.admin import ReadOnlyAdmin

from .models import (
    Comment, Decline, InvitedPartner, Publication, Reminder, Revision, Signature, Statement, Subscriber,
)


@admin.register(Statement)
class StatementAdmin(ReadOnlyAdmin):
    list_display = ["slug", "coalition", "status", "primary_language", "deadline", "created_at"]
    list_filter = ["status", "coalition"]
    search_fields = ["slug", "current_revision__title"]


@admin.register(Revision)
class RevisionAdmin(ReadOnlyAdmin):
    list_display = ["statement", "number", "language", "title", "author", "created_at"]
    list_filter = ["language"]
    search_fields = ["title", "statement__slug"]


@admin.register(Comment)
class CommentAdmin(ReadOnlyAdmin):
    list_display = ["statement", "revision", "author", "created_at", "resolved_at"]


@admin.register(Publication)
class PublicationAdmin(ReadOnlyAdmin):
    list_display = ["statement", "number", "state", "created_at", "ready_at", "released_at", "public_from"]
    list_filter = ["state"]
    search_fields = ["statement__slug", "sha256"]


@admin.register(Signature)
class SignatureAdmin(ReadOnlyAdmin):
    list_display = ["statement", "kind", "organisation", "name", "revision", "created_at", "confirmed_at",
                    "withdrawn_at", "hidden_at"]
    list_filter = ["kind"]
    search_fields = ["statement__slug", "organisation__name", "name", "email"]
    exclude = ["token_hash"]


@admin.register(Decline)
class DeclineAdmin(ReadOnlyAdmin):
    list_display = ["statement", "organisation", "declined_by", "created_at", "retracted_at"]


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    """Who was reminded of which statement, when, and by whom (a coordinator, or automatically
    before the deadline). Written only by reminding; throttling reads these rows."""

    list_display = ["statement", "organisation", "kind", "by", "queued_at"]
    list_filter = ["kind"]
    search_fields = ["statement__slug", "organisation__name"]
    list_select_related = ["statement", "organisation", "by"]


@admin.register(InvitedPartner)
class InvitedPartnerAdmin(ReadOnlyAdmin):
    list_display = ["statement", "organisation", "invited_by", "created_at"]


@admin.register(Subscriber)
class SubscriberAdmin(ReadOnlyAdmin):
    """Subscriptions start and end only through the public pages and the unsubscribe link."""

    list_display = ["email", "language", "created_at", "confirmed_at", "unsubscribed_at"]
    list_filter = ["language"]
    search_fields = ["email"]
