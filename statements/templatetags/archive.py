from django import template

from statements import storage

register = template.Library()


@register.filter
def pdf_size(publication) -> int | None:
    """The size in bytes of an issue's PDF, or None when the file cannot be read."""
    try:
        return publication.pdf.size if publication.pdf else None
    except (*storage.READ_ERRORS, ValueError):
        return None
