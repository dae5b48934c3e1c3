"""Two-factor secrets at rest: a TOTP key or a recovery-code seed is stored encrypted (Fernet:
AES-128-CBC with an HMAC-SHA256, `cryptography`) under MFA_ENCRYPTION_KEYS, so a copy of the
database or of a backup alone does not let anyone pass the second step of sign-in.

The first key encrypts and every key decrypts (MultiFernet); `rotate()` re-encrypts stored secrets
under the first key, so an old key can be dropped once it has run (`manage.py rotate_mfa_keys`).
allauth calls `encrypt`/`decrypt` through `coalition.adapters.MFAAdapter`.
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class UndecryptableSecret(Exception):
    """A stored secret that no key in MFA_ENCRYPTION_KEYS opens: a key was dropped before
    `rotate_mfa_keys` ran, or the keys are not this database's."""


@lru_cache(maxsize=4)
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def cipher() -> MultiFernet:
    return _cipher(tuple(settings.MFA_ENCRYPTION_KEYS))


def encrypt(text: str) -> str:
    return cipher().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return cipher().decrypt(token.encode()).decode()
    except InvalidToken:
        raise UndecryptableSecret(
            "A two-factor secret could not be decrypted with any key in MFA_ENCRYPTION_KEYS "
            "(docs/deploy.md, Secrets at rest).") from None


def is_encrypted(value: str) -> bool:
    try:
        cipher().decrypt(value.encode())
    except InvalidToken:
        return False
    return True


# Where allauth keeps secrets in an authenticator's `data`, by its type.
SECRET_FIELDS = {"totp": ("secret",), "recovery_codes": ("seed",)}
SECRET_LISTS = {"recovery_codes": ("migrated_codes",)}


def _map(kind: str, data: dict, change) -> dict:
    data = dict(data)
    for field in SECRET_FIELDS.get(kind, ()):
        if isinstance(data.get(field), str):
            data[field] = change(data[field])
    for field in SECRET_LISTS.get(kind, ()):
        if isinstance(data.get(field), list):
            data[field] = [change(value) for value in data[field]]
    return data


def _encrypt_if_clear(value: str) -> str:
    return value if is_encrypted(value) else encrypt(value)


def _decrypt_if_encrypted(value: str) -> str:
    return decrypt(value) if is_encrypted(value) else value


def _rotate(value: str) -> str:
    try:
        return cipher().rotate(value.encode()).decode()
    except InvalidToken:
        raise UndecryptableSecret(
            "A two-factor secret could not be decrypted with any key in MFA_ENCRYPTION_KEYS.") from None


def encrypt_all(authenticators) -> int:
    """Encrypt every secret still stored in clear (the data migration); idempotent."""
    return _rewrite(authenticators, _encrypt_if_clear)


def decrypt_all(authenticators) -> int:
    """Store every secret in clear again (the data migration, reversed)."""
    return _rewrite(authenticators, _decrypt_if_encrypted)


def rotate(authenticators) -> int:
    """Re-encrypt every secret under the first key of MFA_ENCRYPTION_KEYS; returns how many
    authenticators changed."""
    return _rewrite(authenticators, _rotate)


def _rewrite(authenticators, change) -> int:
    """`authenticators`: a queryset of allauth's Authenticator (or its historical model)."""
    changed = 0
    # Two rows per enrolled person at most: a few thousand rows, read at once under lock.
    for authenticator in authenticators.select_for_update().order_by("pk"):
        data = _map(authenticator.type, authenticator.data, change)
        if data != authenticator.data:
            authenticator.data = data
            authenticator.save(update_fields=["data"])
            changed += 1
    return changed
