from django.conf import settings

from . import permissions


def site(request) -> dict:
    user = getattr(request, "user", None)
    return {
        "SITE_NAME": "Coalition Statements",
        "SITE_URL": settings.SITE_URL,
        "coordinated_coalitions": permissions.coordinated_coalitions(user) if user else [],
    }
