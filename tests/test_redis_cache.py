"""The Redis cache backend keeps one client per process and behaves as Django's."""

import os
from urllib.parse import urlsplit, urlunsplit

import pytest

from coalition.redis_cache import RedisCache

from .conftest import need_service


@pytest.fixture
def redis_cache():
    url = os.environ.get("REDIS_URL") or os.environ.get("CELERY_BROKER_URL", "")
    need_service("Redis (REDIS_URL or CELERY_BROKER_URL)", url.startswith("redis"))
    import redis

    url = urlunsplit(urlsplit(url)._replace(path="/13"))  # a database of this test's own
    try:
        reachable = bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.exceptions.ConnectionError:
        reachable = False
    need_service("Redis", reachable)
    cache = RedisCache(url, {"KEY_PREFIX": "test-redis-cache"})
    yield cache
    cache.clear()


def test_the_cache_stores_reads_and_counts_through_one_client(redis_cache):
    redis_cache.set("page", {"content": b"<p>stored</p>"}, 30)
    redis_cache.set("version", 1, None)
    assert redis_cache.get_many(["page", "version", "missing"]) == {"page": {"content": b"<p>stored</p>"},
                                                                  "version": 1}
    assert redis_cache.incr("version") == 2
    assert redis_cache.add("lock", 1, 5) and not redis_cache.add("lock", 1, 5)
    assert redis_cache._cache.get_client() is redis_cache._cache.get_client(write=True)
