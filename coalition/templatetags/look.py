"""The coalition whose look (logo, accent) a page wears: `{% page_coalition as look %}`."""

from django import template

from ..models import Coalition

register = template.Library()


@register.simple_tag(takes_context=True)
def page_coalition(context):
    """The page's coalition: the view's `look_coalition`, else its statement's, else its
    `coalition`; None on pages of no one coalition (the site's own look)."""
    chosen = context.get("look_coalition")
    if chosen is None:
        statement = context.get("statement")
        chosen = getattr(statement, "coalition", None) if getattr(statement, "coalition_id", None) else None
    if chosen is None and isinstance(context.get("coalition"), Coalition):
        chosen = context["coalition"]
    return chosen
