"""The origins (https://example.org) whose pages may frame a coalition's statements' embed pages:
the Content-Security-Policy `frame-ancestors` of those pages lists them."""

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def clean_origin(value: str) -> str:
    """An origin a coalition's embed pages may be framed by: scheme://host[:port], nothing more;
    https, except on localhost (a coordinator trying it out). Raises ValidationError."""
    value = value.strip().rstrip("/")
    parts = urlsplit(value)
    try:
        port = parts.port
    except ValueError:
        port = None
        parts = None
    if (parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.path
            or parts.query or parts.fragment or parts.username or parts.password
            or any(c in value for c in " ;,'\"*")):
        raise ValidationError(_("“%(origin)s” is not an origin: give it as https://example.org (a scheme and a host, "
                                "a port if any, nothing after)."), code="invalid", params={"origin": value})
    local = parts.hostname in LOCAL_HOSTS
    if parts.scheme != "https" and not local:
        raise ValidationError(_("“%(origin)s” must use https (http only for localhost)."), code="insecure",
                              params={"origin": value})
    host = parts.hostname.lower()
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def clean_origins(text: str) -> list[str]:
    """The origins in `text`, one a line (blank lines ignored, each once); every bad one reported."""
    origins, errors = [], []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            origin = clean_origin(line)
        except ValidationError as exc:
            errors.extend(exc.error_list)
            continue
        if origin not in origins:
            origins.append(origin)
    if errors:
        raise ValidationError(errors)
    return origins


def validate_origins(value) -> None:
    """Model field validator: a list of origins, each as `clean_origin` gives it."""
    if not isinstance(value, list) or any(not isinstance(o, str) or clean_origin(o) != o for o in value):
        raise ValidationError(_("Give a list of origins, such as https://example.org."), code="invalid")
