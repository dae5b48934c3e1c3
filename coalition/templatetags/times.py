"""`{{ moment|zoned }}`: a time of day as the site states it, with its zone, in the active language
("7 December 2026, 18:00 Kyiv time"; with the reader's own zone too when they chose another).
Dates without a time of day keep the `date` filter."""

from django import template

from coalition import time_zones

register = template.Library()


@register.filter
def zoned(value) -> str:
    return time_zones.format_moment(value)
