"""Who is told what. Each function writes outbox rows in the caller's transaction; Celery
delivers them after commit."""

from django.conf import settings

from . import outbox


def invitation_sent(invitation) -> None:
    outbox.enqueue(
        kind="invitation",
        dedupe_key=f"invitation:{invitation.pk}",
        recipient=invitation.email,
        template="invitation",
        context={
            "invitation": invitation,
            "accept_url": settings.SITE_URL + invitation.get_absolute_url(),
        },
        language=invitation.language,
        coalition=invitation.coalition,
    )
