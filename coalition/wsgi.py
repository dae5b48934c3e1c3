import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coalition.settings")

from coalition.faults import RefuseUnreadableHeaders  # noqa: E402 (after the settings are named)

application = RefuseUnreadableHeaders(get_wsgi_application())
