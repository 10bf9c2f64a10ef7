"""Fleet-wide rate limits: the token buckets of ``limits.RateLimit`` kept in Redis (``KBSUGGEST_REDIS_URL``),
so a client gets ``rate`` requests per second from the whole fleet, not from each replica.

One Lua script takes a token atomically (read, refill, take, write, expire), on Redis's own clock, so
replicas with skewed clocks agree. A bucket expires once it would be full again. Redis is not allowed to
take the API down: on any error (or a reply slower than ``TIMEOUT``) the caller falls back to its
per-process bucket, says so once in the log, and tries Redis again after ``RETRY_SECONDS``.
"""

from __future__ import annotations

import logging
import math
import time

from kbsuggest.errors import MissingDependencyError

log = logging.getLogger("kbsuggest")
PREFIX = "kbsuggest:rate:"
TIMEOUT = 0.25  # seconds: a slow Redis costs a request at most this, then the local bucket decides
RETRY_SECONDS = 5.0

# KEYS[1]: the bucket; ARGV: rate (tokens/s), burst, ttl (s). Returns the wait in seconds (0: taken), as text.
TAKE = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(state[1]) or burst, tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], ARGV[3])
return tostring(wait)
"""


class RedisBuckets:
    def __init__(self, url: str, rate: float, burst: int) -> None:
        self.url, self.rate, self.burst = url, rate, burst
        self.ttl = math.ceil(burst / rate) + 1
        self._client = None
        self._script = None
        self._down_until = 0.0

    def _connect(self):
        try:
            import redis.asyncio as redis
        except ImportError:
            raise MissingDependencyError("KBSUGGEST_REDIS_URL needs redis: pip install 'kbsuggest[fleet]'") from None
        self._client = redis.from_url(self.url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
        self._script = self._client.register_script(TAKE)

    async def take(self, client: str) -> float | None:
        """Take a token from the fleet's bucket of ``client``: 0, or the seconds until one will be; None
        while Redis is unavailable (the caller uses its own bucket)."""
        if time.monotonic() < self._down_until:
            return None
        if self._client is None:
            self._connect()
        try:
            wait = float(await self._script(keys=[PREFIX + client], args=[self.rate, self.burst, self.ttl]))
        except Exception as exc:  # noqa: BLE001 - any Redis failure: fail open to the local bucket
            if not self._down_until:
                log.warning("rate limits are per process until Redis is back (retried every %.0f s): %s",
                            RETRY_SECONDS, str(exc).split("\n")[0] or type(exc).__name__)
            self._down_until = time.monotonic() + RETRY_SECONDS
            return None
        if self._down_until:
            log.warning("rate limits are fleet-wide again (Redis is back)")
            self._down_until = 0.0
        return wait
