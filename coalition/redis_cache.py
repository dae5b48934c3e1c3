"""Django's Redis cache, keeping one redis-py client per connection pool.

Django's `RedisCache` makes a new `redis.Redis` for every cache call, and each copies redis-py's
table of response callbacks: about 0.06 ms of CPU a call, a sixth of serving a stored statement
page (docs/benchmarks.md). A client holds no connection of its own (it borrows one from the
pool for each command, and the pool renews its connections after a fork), so one client per pool
serves every thread of the process alike.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
