import re

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from coalition import names, time_zones, validators
from coalition.forms import OrganisationChoiceField
from coalition.models import Organisation

from .models import Revision, Statement
from .selectors import ArchiveFilters
from .services.drafting import COMMENT_MAX_LENGTH, Draft


class DeadlineInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class ZonedDateTimeField(forms.DateTimeField):
    """A moment typed as a date and a time of day, read in the active zone (the site's, or the
    one the person chose in their account); the label and help say which."""

    widget = DeadlineInput

    def __init__(self, *, label, help_text="", **kwargs):
        super().__init__(label=time_zones.input_label(label), help_text=time_zones.input_help(help_text), **kwargs)


def _within_limit(value: str, limit: int) -> None:
    """A long text is refused with its length and the limit (no `maxlength` in the page, so a
    browser never cuts pasted text short without a word); the form keeps what was typed."""
    if len(value) > limit:
        raise forms.ValidationError(
            _("This is too long: %(length)s characters, and the limit is %(limit)s. Please shorten it."),
            code="too_long", params={"length": len(value), "limit": limit})


class TextFields(forms.Form):
    """Title, summary and Markdown text of a revision."""

    title = forms.CharField(label=_("Title"), max_length=300, validators=[validators.validate_title])
    summary = forms.CharField(
        label=_("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One or two sentences shown in lists and emails."),
        validators=[lambda value: _within_limit(value, settings.STATEMENT_SUMMARY_MAX_CHARS)],
    )
    body = forms.CharField(
        label=_("Text"), strip=False, widget=forms.Textarea(attrs={"rows": 18}),
        help_text=_("Markdown: a blank line between paragraphs, **bold**, *italic*, - for a list, [words](https://…) for a link."),
        validators=[lambda value: _within_limit(value, settings.STATEMENT_BODY_MAX_CHARS)],
    )

    def draft(self) -> Draft:
        data = self.cleaned_data
        return Draft(title=data["title"], summary=data["summary"], body=data["body"], note=data.get("note", ""))


class StatementForm(TextFields):
    coalition = forms.ModelChoiceField(label=_("Coalition"), queryset=None, empty_label=None)
    language = forms.ChoiceField(label=_("Language of the original"), choices=settings.LANGUAGES)
    deadline = ZonedDateTimeField(
        label=_("Proposed signing deadline"), required=False,
        help_text=_("Optional. Coordinators fix the deadline when they open the statement for signature."),
    )
    allows_individuals = forms.BooleanField(label=_("Individuals may sign too"), required=False)
    field_order = ["coalition", "language", "title", "summary", "body", "deadline", "allows_individuals"]

    def __init__(self, *args, coalitions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["coalition"].queryset = coalitions
        if len(coalitions) == 1:
            self.fields["coalition"].widget = forms.HiddenInput()
            self.fields["coalition"].initial = coalitions[0]


class RevisionForm(TextFields):
    note = forms.CharField(
        label=_("What changed"), max_length=300, required=False,
        help_text=_("Optional: a short note for your colleagues, shown in the history."),
    )
    based_on = forms.ModelChoiceField(queryset=Revision.objects.none(), widget=forms.HiddenInput())

    def __init__(self, *args, statement: Statement, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["based_on"].queryset = statement.revisions.all()


class TranslationForm(RevisionForm):
    translation_of = forms.ModelChoiceField(queryset=Revision.objects.none(), widget=forms.HiddenInput())

    def __init__(self, *args, statement: Statement, **kwargs):
        super().__init__(*args, statement=statement, **kwargs)
        self.fields["based_on"].required = False
        self.fields["translation_of"].queryset = statement.revisions.filter(language=statement.primary_language)


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Your comment"), max_length=COMMENT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Plain text. It is tied to the revision you are reading."),
    )
    revision = forms.ModelChoiceField(queryset=Revision.objects.none(), widget=forms.HiddenInput())

    def __init__(self, *args, statement: Statement, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["revision"].queryset = statement.revisions.all()
        self.fields["revision"].initial = statement.current_revision_id


class OpenForm(forms.Form):
    WHO_MAY_SIGN = [
        ("organisations", _("Organisations only")),
        ("individuals", _("Organisations, and individuals who confirm their email address")),
    ]

    deadline = ZonedDateTimeField(
        label=_("Signing deadline"), required=False,
        help_text=_("Optional. Signing stops at this time, or when you close it, whichever comes first."),
    )
    # Not sent (an older form, a script): the drafter's choice stands.
    who_may_sign = forms.ChoiceField(label=_("Who may sign"), choices=WHO_MAY_SIGN, required=False,
                                     widget=forms.RadioSelect)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")  # the legend reads like the other labels, no colon
        super().__init__(*args, **kwargs)

    @property
    def allows_individuals(self) -> bool | None:
        choice = self.cleaned_data.get("who_may_sign")
        return None if not choice else choice == "individuals"


class ReopenForm(forms.Form):
    deadline = ZonedDateTimeField(
        label=_("New signing deadline"), required=False,
        help_text=_("Needed if the old deadline has passed; otherwise leave empty to keep it."),
    )


class DeadlineForm(forms.Form):
    deadline = ZonedDateTimeField(
        label=_("New signing deadline"),
        help_text=_("Signing stops at this time. Everyone who may sign is told the new deadline."),
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for withdrawing"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown on the statement's page."),
    )


class CompareForm(forms.Form):
    old = forms.IntegerField(label=_("From revision"), min_value=1)
    new = forms.IntegerField(label=_("To revision"), min_value=1)


# Signing ----------------------------------------------------------------------------------------


class TextHashField(forms.CharField):
    """The SHA-256 of the text the signer was shown, sent back with their confirmation."""

    def __init__(self, **kwargs):
        super().__init__(widget=forms.HiddenInput(), min_length=64, max_length=64, **kwargs)


class OrganisationSignForm(forms.Form):
    """The confirmation step's button. Any organisation may be named: whether this person may
    sign for it is the service's question (a 403), not the form's."""

    organisation = forms.ModelChoiceField(queryset=Organisation.objects.all(), to_field_name="slug",
                                          widget=forms.HiddenInput())
    sha256 = TextHashField()


class ConfirmTextForm(forms.Form):
    sha256 = TextHashField()


class DeclineForm(forms.Form):
    organisation = forms.ModelChoiceField(queryset=Organisation.objects.all(), to_field_name="slug",
                                          widget=forms.HiddenInput())
    reason = forms.CharField(
        label=_("Reason (optional)"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Only the coalition's coordinators read it."),
    )


class IndividualSignForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    affiliation = forms.CharField(
        label=_("Affiliation (optional)"), max_length=200, required=False,
        help_text=_("For example your profession or organisation, shown after your name."),
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    email = forms.EmailField(
        label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("We send you a link to confirm your signature. Your address is never shown."),
    )
    # A field people never see (hidden by the stylesheet and from screen readers): scripts fill it.
    website = forms.CharField(
        label=_("Leave this field empty"), required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("Write your name."))
        validators.validate_name(name)
        return name

    def clean_affiliation(self):
        affiliation = " ".join(self.cleaned_data["affiliation"].split())
        validators.validate_name(affiliation)
        return affiliation

    @property
    def is_bot(self) -> bool:
        return bool(self.cleaned_data.get("website"))


class IndividualConfirmForm(forms.Form):
    sha256 = TextHashField()


class HideSignatureForm(forms.Form):
    reason = forms.CharField(label=_("Reason for hiding"), max_length=2000,
                             widget=forms.TextInput(), help_text=_("Kept on the record with the signature."))


class ReminderForm(forms.Form):
    note = forms.CharField(
        label=_("Note (optional)"), required=False, max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Plain text, at most 1,000 characters, added to the email. The buttons in the table send it "
                    "too."),
    )


class SignatoryOrderForm(forms.Form):
    """A place (1, 2, 3 ...) for each signatory organisation; "alphabetical" clears the order.
    Works without JavaScript: the numbers are typed, ties are refused."""

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisations = list(organisations)
        for i, organisation in enumerate(self.organisations, start=1):
            self.fields[f"place-{organisation.pk}"] = forms.IntegerField(
                label=organisation.display_name, min_value=1, max_value=len(self.organisations), initial=i,
                error_messages={"required": _("Give %(organisation)s a place.") % {"organisation": organisation.display_name}},
                required=not self.data.get("alphabetical"),  # the places typed do not matter then
            )

    def rows(self):
        return [(organisation, self[f"place-{organisation.pk}"]) for organisation in self.organisations]

    def clean(self):
        cleaned = super().clean()
        if self.data.get("alphabetical"):
            cleaned["order"] = []
            return cleaned
        places = {o.pk: cleaned.get(f"place-{o.pk}") for o in self.organisations}
        if None in places.values():
            return cleaned
        if len(set(places.values())) != len(places):
            raise forms.ValidationError(_("Two organisations have the same place: give each a different number."))
        cleaned["order"] = sorted(places, key=places.get)
        return cleaned


class InvitePartnerForm(forms.Form):
    organisation = OrganisationChoiceField(label=_("Organisation"), queryset=Organisation.objects.none(),
                                          empty_label=_("Choose an organisation"))

    def __init__(self, *args, statement: Statement, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = (
            Organisation.objects.exclude(memberships__coalition=statement.coalition, memberships__left__isnull=True)
            .exclude(pk__in=statement.invited_partners.values("organisation")).order_by("name")
        )


# Publishing -------------------------------------------------------------------------------------


class PublishForm(forms.Form):
    takes_statement = True  # the review step passes the statement (statements/views/review.py)

    public_from = ZonedDateTimeField(
        label=_("Release time (embargo)"), required=False,
        help_text=_("Optional. The signed PDF is prepared now; the statement and its PDF become public "
                    "at this time. Until then only member organisations' staff see them."),
    )
    place = forms.CharField(
        label=_("Place of publication"), required=False, max_length=names.PLACE_MAX_LENGTH,
        validators=[validators.validate_name],
        help_text=_("Printed before the date in the PDF, in the language of the statement. Leave it empty "
                    "for the coalition's place."),
    )

    def __init__(self, *args, statement: Statement | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if statement is not None:
            language = statement.primary_language
            self.fields["place"].initial = statement.place_in(language)
            self.fields["place"].widget.attrs["lang"] = language


class CorrectionForm(forms.Form):
    note = forms.CharField(
        label=_("What the correction changes"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Printed in the corrected PDF and shown on the statement's page."),
    )


class VerifyForm(forms.Form):
    """A PDF to check, or the SHA-256 of one: one of the two."""

    file = forms.FileField(label=_("A PDF file"), required=False)
    sha256 = forms.CharField(
        label=_("Or its SHA-256"), required=False, max_length=100,
        help_text=_("64 hexadecimal characters, as `sha256sum` prints them."),
    )

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload is None:
            return None
        if upload.size > settings.VERIFY_MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is too large: we check files up to %(mb)d MB.")
                % {"mb": settings.VERIFY_MAX_UPLOAD_BYTES // (1024 * 1024)}, code="too_large")
        upload.seek(0)
        head = upload.read(1024)
        upload.seek(0)
        if b"%PDF-" not in head:
            raise forms.ValidationError(_("This is not a PDF file."), code="not_pdf")
        return upload

    def clean_sha256(self):
        value = "".join(self.cleaned_data.get("sha256", "").split()).lower()
        if value and not re.fullmatch(r"[0-9a-f]{64}", value):
            raise forms.ValidationError(
                _("A SHA-256 is 64 hexadecimal characters (0-9, a-f)."), code="malformed")
        return value

    def clean(self):
        cleaned = super().clean()
        if not self.errors and bool(cleaned.get("file")) == bool(cleaned.get("sha256")):
            raise forms.ValidationError(_("Choose a PDF file, or give its SHA-256: one of the two."), code="one")
        return cleaned


class ArchiveSearchForm(forms.Form):
    """The archive's search and filters, read from the query string. A value that is not valid
    (an unknown organisation, a year with nothing published) is left out of the search."""

    q = forms.CharField(label=_("Search"), max_length=200, required=False,
                        widget=forms.TextInput(attrs={"type": "search"}))
    organisation = OrganisationChoiceField(label=_("Signed by"), queryset=Organisation.objects.none(),
                                          to_field_name="slug", required=False, empty_label=_("Any organisation"))
    year = forms.TypedChoiceField(label=_("Year"), coerce=int, required=False, empty_value=None)
    lang = forms.ChoiceField(label=_("Language"), required=False,
                             choices=[("", _("Any language")), *settings.LANGUAGES])

    def __init__(self, *args, organisations, years, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        self.fields["year"].choices = [("", _("Any year")), *((year, year) for year in years)]

    def filters(self):
        self.is_valid()
        data = self.cleaned_data
        return ArchiveFilters(q=data.get("q", "").strip(), organisation=data.get("organisation"),
                              year=data.get("year"), language=data.get("lang", ""))


class SignatorySearchForm(forms.Form):
    """The search of a statement's list of individual signatories, read from the query string."""

    q = forms.CharField(label=_("Name or affiliation"), max_length=200, required=False,
                        widget=forms.TextInput(attrs={"type": "search"}))

    def query(self) -> str:
        """The words to look for; empty when there are none, or when they are too long to be a name."""
        return self.cleaned_data["q"].strip() if self.is_valid() else ""


class SubscribeForm(forms.Form):
    """An address for new publications; nothing else is asked."""

    email = forms.EmailField(label=_("Your email address"), max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    # A field people never see (hidden by the stylesheet and from screen readers): scripts fill it.
    website = forms.CharField(
        label=_("Leave this field empty"), required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    @property
    def is_bot(self) -> bool:
        return bool(self.cleaned_data.get("website"))


class ErasureRequestForm(SubscribeForm):
    """The address whose individual signatures should be erased (with the same trap for scripts)."""

    email = forms.EmailField(label=_("The email address you signed with"), max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
