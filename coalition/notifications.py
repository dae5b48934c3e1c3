"""Who is told what about their membership: an invitation, and a change to their signing
authority or their place on an organisation's staff. Each message is written to the outbox in the
caller's transaction and delivered after commit."""

from django.conf import settings
from django.urls import reverse

from . import outbox


def invitation_sent(invitation) -> None:
    outbox.enqueue(
        kind="invitation",
        dedupe_key=f"invitation:{invitation.pk}",
        recipient=invitation.email,
        template="invitation",
        context={
            "invitation": invitation,
            "accept_url": settings.SITE_URL + invitation.accept_path(),
        },
        language=invitation.language,
        coalition=invitation.coalition,
    )


# Who may sign ---------------------------------------------------------------------------------

SIGNING_AUTHORITY_TEMPLATES = {"granted": "signing_granted", "withdrawn": "signing_withdrawn",
                               "removed": "staff_removed"}


def signing_authority_changed(user, organisation, coalition, *, change: str, event) -> None:
    """A coordinator gave `user` authority to sign for `organisation`, withdrew it, or took them
    off its staff (`change`): they are told, in their language. One message per audit `event`,
    so granting again later is a new message."""
    outbox.enqueue(
        kind="signing_authority",
        dedupe_key=f"signing-authority:{event.pk}",
        recipient=user.email,
        template=SIGNING_AUTHORITY_TEMPLATES[change],
        context={"person": user, "organisation": organisation, "coalition": coalition,
                 "dashboard_url": settings.SITE_URL + reverse("dashboard")},
        language=user.language or "en",
        time_zone=user.time_zone,
        coalition=coalition,
    )
