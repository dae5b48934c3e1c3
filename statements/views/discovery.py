"""What search engines read: sitemap.xml and robots.txt."""

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from coalition.caching import cache_public_page
from coalition.models import Organisation

from .. import selectors


@require_GET
@cache_public_page
def sitemap(request):
    """The archive, every public statement (with its language versions as alternates) and every
    organisation that signed one."""
    statements = list(selectors.published_statements())
    languages = selectors.public_languages(statements)
    for statement in statements:
        statement.languages = languages[statement.pk]
    organisations = Organisation.objects.filter(pk__in=selectors.signing_organisations().values("pk"))
    return render(request, "sitemap.xml", {
        "site": settings.SITE_URL, "statements": statements, "organisations": organisations,
        "archive": reverse("statement_list"),
    }, content_type="application/xml; charset=utf-8")


@require_GET
def robots_txt(request):
    lines = ["User-agent: *", "Disallow: /accounts/", "Disallow: /admin/", "Disallow: /dashboard/",
             "Disallow: /invitations/", "Disallow: /unsubscribe/", "Disallow: /i18n/", "",
             f"Sitemap: {settings.SITE_URL}{reverse('sitemap')}", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
