from allauth.account.adapter import get_adapter
from allauth.core import context
from allauth.mfa.base.forms import AuthenticateForm as MFAAuthenticateForm
from django import forms
from django.conf import settings
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.utils.translation import gettext_lazy as _

from . import names, permissions, time_zones, validators
from .adapters import count_sign_in_attempt
from .models import Coalition, EmailOptOut, Invitation, Organisation


class _ByNameInLanguage(forms.models.ModelChoiceIterator):
    """The choices in the alphabetical order of their names in the active language."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for organisation in sorted(self.queryset, key=lambda o: names.sort_key(o.display_name)):
            yield self.choice(organisation)


class OrganisationChoiceField(forms.ModelChoiceField):
    """A choice of organisations, each by its name in the active language, in that language's
    alphabetical order."""

    iterator = _ByNameInLanguage

    def label_from_instance(self, obj) -> str:
        return obj.display_name


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=Invitation.Role.choices, initial=Invitation.Role.STAFF)
    organisation = OrganisationChoiceField(
        label=_("Organisation"), queryset=Organisation.objects.none(), required=False,
        empty_label=_("Choose an organisation"), help_text=_("Required for staff; optional for a coordinator."),
    )
    language = forms.ChoiceField(label=_("Language of the invitation email"), choices=settings.LANGUAGES)

    def __init__(self, *args, coalition: Coalition, **kwargs):
        super().__init__(*args, **kwargs)
        # Members, and partners the coalition invited to sign: the staff roles its coordinators make.
        self.fields["organisation"].queryset = permissions.staffed_organisations(coalition).order_by("name")

    def clean(self):
        data = super().clean()
        if data.get("role") in (Invitation.Role.STAFF, Invitation.Role.SIGNER) and not data.get("organisation"):
            self.add_error("organisation", _("Choose the organisation the person will work for."))
        return data


class AcceptInvitationForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=200, validators=[validators.validate_name])
    password1 = forms.CharField(
        label=_("Password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password (again)"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", _("The two passwords differ."))
        return data


class NotificationPreferencesForm(forms.Form):
    receive = forms.MultipleChoiceField(
        label=_("Email me when"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=EmailOptOut.Kind.choices,
        help_text=_("Invitations, signature confirmations and account messages are always sent."),
    )


class AuthenticateForm(MFAAuthenticateForm):
    """allauth's two-factor code form (MFA_FORMS["authenticate"]), with wrong codes also counted
    per user and IP (`adapters.count_sign_in_attempt`) before allauth's own per-user ceiling: a
    stranger who has the password and guesses codes from elsewhere does not lock the owner out."""

    def clean_code(self) -> str:
        usage = count_sign_in_attempt(context.request, f"mfa:{self.user.pk}")
        if not usage:
            raise get_adapter().validation_error("too_many_login_attempts")
        code = super().clean_code()
        usage.rollback()
        return code


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(
        label=_("Your time zone"), required=False, choices=time_zones.choices,
        error_messages={"invalid_choice": _("“%(value)s” is not a time zone we know; choose one from the list.")},
        help_text=_("Times are always shown in Kyiv time, the coalition’s; with your own zone chosen they "
                    "are also shown in yours, and times you type into forms are read in yours."),
    )
