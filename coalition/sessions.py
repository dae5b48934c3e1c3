"""Sessions kept in the database and read from the cache (SESSION_ENGINE in settings).

Django's `cached_db` store: every session is written to the database and to the cache, and read
from the cache, so a signed-in page does not ask the database for its session. The database stays
the record: a session survives the cache being emptied or evicted (it is read from the database
and put back), and pages keep working while the cache cannot be reached.

Signing out (`flush`) must take effect at once, so the session is deleted from the cache first:
if the cache cannot be reached, signing out fails before anything changed (the person is still signed in and
is told to try again: a 503, from RateLimitMiddleware in a view, faults.server_error after one),
rather than leaving a copy in the cache that would be served again once it is back. A change to a
session's data that the cache cannot take is saved in the database and logged (Django's own
`cached_db`), and so is the key given up when signing in makes a new one. A deactivated person or
a changed password still take effect on the next request: the user is read from the database
every time, and its password hash checked against the session's.
"""

import logging

from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore

log = logging.getLogger(__name__)


class SessionStore(CachedDBStore):
    def load(self):
        try:
            data = self._cache.get(self.cache_key)
        except Exception:  # noqa: BLE001  (cache unreachable: the database has it)
            log.warning("Session cache unavailable; reading the session from the database", exc_info=True)
            data = None
        if data is not None:
            return data
        stored = self._get_session_from_db()
        if not stored:
            return {}
        data = self.decode(stored.session_data)
        try:
            self._cache.set(self.cache_key, data, self.get_expiry_age(expiry=stored.expire_date))
        except Exception:  # noqa: BLE001
            log.warning("Session cache unavailable; session not cached", exc_info=True)
        return data

    def exists(self, session_key):
        # Asked when a new key is made: the database holds every key (and answers without the cache).
        return super(CachedDBStore, self).exists(session_key)

    def delete(self, session_key=None):
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        try:
            self._cache.delete(self.cache_key_prefix + session_key)
        except Exception:  # noqa: BLE001  (a key given up when signing in: nobody presents it again)
            log.warning("Session cache unavailable; a replaced session stays cached", exc_info=True)
        super(CachedDBStore, self).delete(session_key)

    def flush(self):
        """Signing out: the cached copy is deleted first, and if it cannot be, nothing is."""
        if self.session_key is not None:
            self._cache.delete(self.cache_key_prefix + self.session_key)
        super().flush()
