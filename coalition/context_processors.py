from django.conf import settings

from . import permissions


def site(request) -> dict:
    user = getattr(request, "user", None)
    coordinated = getattr(request, "coordinated_coalitions", None)  # read by RequireMFAMiddleware
    return {
        "SITE_NAME": "Coalition Statements",
        "SITE_URL": settings.SITE_URL,
        "coordinated_coalitions": coordinated if coordinated is not None
        else permissions.coordinated_coalitions(user) if user else [],
    }
