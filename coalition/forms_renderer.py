from django.forms.renderers import TemplatesSetting


class SiteFormRenderer(TemplatesSetting):
    """Django's form rendering with the site's field template (templates/forms/field.html)."""

    field_template_name = "forms/field.html"
