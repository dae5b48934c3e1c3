from allauth.mfa.models import Authenticator
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models
from django.utils.translation import gettext_lazy as _

from . import look, names, outbox, services, validators
from .models import (
    AuditEvent, Coalition, CoalitionRole, EmailOptOut, Invitation, Membership, Organisation, OrganisationRole,
    OutboundEmail, User,
)


class OrganisationRoleInline(admin.TabularInline):
    model = OrganisationRole
    extra = 0
    autocomplete_fields = ["organisation", "coalition"]


class CoalitionRoleInline(admin.TabularInline):
    model = CoalitionRole
    extra = 0


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "language", "is_staff", "is_active"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Personal info"), {"fields": ["name", "language", "time_zone"]}),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    inlines = [OrganisationRoleInline, CoalitionRoleInline]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["organisation"]


def _language_name(code: str) -> str:
    return str(dict(settings.LANGUAGES)[code])


class NamesForm(forms.ModelForm):
    """The name and description in each of the site's other languages as fields of their own
    ("Name (Ukrainian)"), kept in the model's `translations`; for a coalition (`with_places`),
    the place of publication in every language too, kept in `places`. A language added to
    settings.LANGUAGES gets its fields here with no other change (see `names_form`)."""

    with_places = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        translations = self.instance.translations or {}
        for language in names.other_languages():
            for field in names.FIELDS:
                self.initial.setdefault(f"{field}_{language}", translations.get(language, {}).get(field, ""))
        for language in names.languages() if self.with_places else ():
            self.initial.setdefault(f"place_{language}", (self.instance.places or {}).get(language, ""))

    def clean(self):
        cleaned = super().clean()
        try:
            self.instance.translations = names.clean_translations({
                language: {field: cleaned.get(f"{field}_{language}", "") for field in names.FIELDS}
                for language in names.other_languages()})
            if self.with_places:
                self.instance.places = names.clean_places(
                    {language: cleaned.get(f"place_{language}", "") for language in names.languages()})
        except forms.ValidationError as exc:
            self.add_error(None, exc)
        return cleaned


def names_form(model, *, with_places: bool = False) -> type[NamesForm]:
    """A NamesForm for `model` with a name and a description field for each other language."""
    fields = {"with_places": with_places}
    for language in names.other_languages():
        label = _language_name(language)
        fields[f"name_{language}"] = forms.CharField(
            label=_("Name (%(language)s)") % {"language": label}, required=False, max_length=names.NAME_MAX_LENGTH,
            help_text=_("Leave empty to show the name above in this language."))
        fields[f"description_{language}"] = forms.CharField(
            label=_("Description (%(language)s)") % {"language": label}, required=False,
            widget=forms.Textarea(attrs={"rows": 3}))
    for language in names.languages() if with_places else ():
        fields[f"place_{language}"] = forms.CharField(
            label=_("Place of publication (%(language)s)") % {"language": _language_name(language)},
            required=False, max_length=names.PLACE_MAX_LENGTH)
    meta = type("Meta", (), {"model": model, "exclude": ["translations", "places"] if with_places else ["translations"]})
    return type(f"{model.__name__}NamesForm", (NamesForm,), {**fields, "Meta": meta})


class CoalitionForm(names_form(Coalition, with_places=True)):
    logo_upload = forms.FileField(label=_("Logo"), required=False,
                                  help_text=_("An SVG or PNG image, at most 512 KB; an SVG is sanitised."))
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)

    def clean_logo_upload(self):
        upload = self.cleaned_data.get("logo_upload")
        return look.clean_logo(upload) if upload else None


@admin.register(Coalition)
class CoalitionAdmin(admin.ModelAdmin):
    form = CoalitionForm
    # A website typed without a scheme is read as https:// (Django 6's default, chosen now).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["name", "slug", "demo"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]
    inlines = [MembershipInline, CoalitionRoleInline]

    def save_model(self, request, obj, form, change):
        """The logo and accent go through coalition/look.py: stored by hash, and audited."""
        accent = obj.accent  # saved first as it was (none for a new coalition), then set and audited
        obj.accent = Coalition.objects.values_list("accent", flat=True).get(pk=obj.pk) if change else ""
        super().save_model(request, obj, form, change)
        services.apply_look(obj, by=request.user, accent=accent, logo=form.cleaned_data.get("logo_upload"),
                        remove_logo=form.cleaned_data.get("remove_logo"))


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    form = names_form(Organisation)
    # A website typed without a scheme is read as https:// (Django 6's default, chosen now).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["name", "website", "demo"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]
    inlines = [OrganisationRoleInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        for warning in look_alike_warnings(obj):
            messages.warning(request, warning)


def look_alike_warnings(organisation: Organisation) -> list[str]:
    """What an operator saving an organisation should check: one of its names, in any language,
    reads as another organisation's ("Truth Hоunds" with a Cyrillic о beside Truth Hounds), or its
    original name mixes look-alike letters of two scripts. (A name in another language may mix
    scripts honestly: «Центр прав людини ZMINA».)"""
    others = [name for other in Organisation.objects.exclude(pk=organisation.pk).only("name", "translations")
              for name in other.all_names()]
    warnings = [
        _("“%(name)s” looks like “%(other)s”, an organisation already here. If it is not the same "
          "organisation, it may be an impostor: check before it is given members or signers.")
        % {"name": name, "other": other}
        for name in organisation.all_names() for other in validators.confusable_names(name, others)
    ]
    if validators.mixes_scripts(organisation.name):
        warnings.append(_("“%(name)s” mixes letters of different alphabets that look alike (such as a "
                          "Cyrillic “о” among Latin letters).") % {"name": organisation.name})
    return warnings


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["organisation", "coalition", "joined", "left"]
    list_filter = ["coalition"]
    search_fields = ["organisation__name"]


@admin.register(OrganisationRole)
class OrganisationRoleAdmin(admin.ModelAdmin):
    list_display = ["user", "organisation", "coalition", "can_sign"]
    list_filter = ["coalition", "can_sign"]
    search_fields = ["user__email", "organisation__name"]
    autocomplete_fields = ["user", "organisation", "coalition"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "coalition", "organisation", "role", "status", "expires_at"]
    list_filter = ["coalition", "role"]
    search_fields = ["email"]
    fields = ["coalition", "organisation", "email", "role", "language"]

    def get_readonly_fields(self, request, obj=None):
        return self.fields if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            return
        # Created through the service, so the email goes out and the audit log records it.
        created = services.invite(
            obj.coalition, by=request.user, email=obj.email, role=obj.role,
            organisation=obj.organisation, language=obj.language, check_permission=False,
        )
        obj.pk, obj.token_hash = created.pk, created.token_hash


# allauth's own admin for authenticators shows and edits their data (the TOTP key, the recovery
# codes' seed): this one shows whose they are and when used, and may only delete one (a person
# who lost their phone enrols again).
admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class AuthenticatorAdmin(admin.ModelAdmin):
    raw_id_fields = ["user"]
    list_display = ["user", "type", "created_at", "last_used_at"]
    list_filter = ["type"]
    search_fields = ["user__email"]
    fields = readonly_fields = ["user", "type", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that change only through the site's audited pages (or never): the admin shows them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor_label", "action", "object_repr"]
    list_filter = ["action"]
    search_fields = ["object_repr", "actor_label"]


@admin.register(EmailOptOut)
class EmailOptOutAdmin(admin.ModelAdmin):
    """Who asked for which bulk email to stop: for answering "why did I not get it?"."""

    list_display = ["email", "kind", "created_at"]
    list_filter = ["kind"]
    search_fields = ["email"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    """Who was sent what kind of message, when, and whether it arrived: never its text, whose links
    (password reset, invitation, confirmation, unsubscribe) act for the recipient."""

    list_display = ["created_at", "kind", "recipient", "subject", "attempts", "sent_at", "failed_at"]
    list_filter = ["kind"]
    search_fields = ["recipient", "subject"]
    exclude = list(outbox.BODY_FIELDS)
    readonly_fields = [f.name for f in OutboundEmail._meta.fields if f.name not in outbox.BODY_FIELDS] + ["text_kept"]

    @admin.display(boolean=True, description=_("text kept"))
    def text_kept(self, obj) -> bool:
        return not outbox.body_dropped(obj)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
