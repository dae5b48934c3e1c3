"""`{{ organisation|name_in:"uk" }}`: a coalition's or an organisation's name in a language, for
a model or an organisation of a published issue's frozen list (a dict, or a bare name in the
earliest issues). `{{ organisation.display_name }}` is the same in the active language."""

from django import template

from coalition import names

register = template.Library()


@register.filter
def name_in(value, language: str = "") -> str:
    if hasattr(value, "name_in"):
        return value.name_in(language or None)
    if isinstance(value, dict):
        return names.name_in(value.get("name", ""), {k: {"name": v} for k, v in (value.get("names") or {}).items()},
                             language or None)
    return str(value)
