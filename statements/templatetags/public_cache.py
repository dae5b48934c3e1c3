"""`{% statement_fragment name statement vary... %}...{% endstatement_fragment %}`: a part of a
statement's page stored and renewed like the page itself (coalition/caching.py), so a visitor
whose page is made for them (signed in) still gets its heavy parts from the cache. The key holds
the statement, the language, the time zone and the values after it: pass everything of the
visitor's own that the part shows (e.g. `drafting`), and nothing else."""

import hashlib

from django import template
from django.utils import timezone, translation
from django.utils.safestring import mark_safe

from coalition.caching import stored_or_render

from .. import caching

register = template.Library()


class StatementFragmentNode(template.Node):
    def __init__(self, nodelist, name, statement, vary):
        self.nodelist, self.name, self.statement, self.vary = nodelist, name, statement, vary

    def render(self, context):
        statement = self.statement.resolve(context)
        vary = repr([value.resolve(context) for value in self.vary]).encode()
        key = (f"public-fragment:{self.name.resolve(context)}:{statement.pk}:{translation.get_language()}:"
               f"{timezone.get_current_timezone_name()}:"
               f"{hashlib.sha256(vary).hexdigest()}")
        # A page being stored for anonymous visitors is itself the one render of its next copy.
        request = context.get("request")
        storing_page = getattr(request, "_public_page_versions", None) is not None
        return mark_safe(stored_or_render(key, lambda: caching.statement_versions(statement.pk),
                                          lambda: self.nodelist.render(context),
                                          stale_allowed=not storing_page,
                                          known=caching.request_statement_versions(request, statement.pk)))


@register.tag
def statement_fragment(parser, token):
    bits = token.split_contents()
    if len(bits) < 3:
        raise template.TemplateSyntaxError(f"{bits[0]} takes a fragment name and a statement")
    nodelist = parser.parse(("endstatement_fragment",))
    parser.delete_first_token()
    name, statement, *vary = (parser.compile_filter(bit) for bit in bits[1:])
    return StatementFragmentNode(nodelist, name, statement, vary)
