from urllib.parse import urlsplit

from django import template

register = template.Library()

WEB_SCHEMES = {"http", "https"}


@register.filter
def web_url(value) -> str:
    """`value` if it is an http(s) address, else "": what a stored website may be linked as.

    The forms only accept such addresses, but rows written another way (an import, the shell)
    are not checked, and a `javascript:` or `data:` link would run in the visitor's browser."""
    value = str(value or "").strip()
    try:
        parts = urlsplit(value)
    except ValueError:
        return ""
    return value if parts.scheme.lower() in WEB_SCHEMES and parts.netloc else ""
