"""The bot's small mutable state (dedupe keys, rate limits, preferences) behind one interface.

Everything else in `bot/` is stateless, so several HTTP-mode replicas can run behind a load balancer
once they share one `Store` (Redis `SET NX EX`, a SQL unique key...). The in-process `MemoryStore`
is the default and is what a single process (Socket Mode, console) needs.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Protocol

#: bound on remembered dedupe keys, so a long-running process does not grow without limit
MAX_KEYS = 50_000


class Store(Protocol):
    """What the bot needs from shared state; every method must be atomic."""

    def first_time(self, key: str, ttl: float) -> bool:
        """Record `key` and return True, unless it was already recorded within `ttl` seconds."""
        ...

    def allow(self, key: str, limit: int, window: float) -> bool:
        """Count one event under `key`; False when `limit` events already happened in `window` s."""
        ...

    def get_pref(self, user: str, name: str) -> str | None:
        """A user's preference (e.g. "lang"), or None."""
        ...

    def set_pref(self, user: str, name: str, value: str) -> None:
        """Remember a user's preference."""
        ...


class MemoryStore:
    """Thread-safe in-process Store with TTL expiry and bounded size."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._hits: dict[str, deque[float]] = {}
        self._prefs: dict[tuple[str, str], str] = {}

    def first_time(self, key: str, ttl: float) -> bool:
        now = self._clock()
        with self._lock:
            expiry = self._seen.get(key)
            if expiry is not None and expiry > now:
                return False
            self._seen[key] = now + ttl
            self._seen.move_to_end(key)
            while len(self._seen) > MAX_KEYS:
                self._seen.popitem(last=False)
            return True

    def allow(self, key: str, limit: int, window: float) -> bool:
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return False
            hits.append(now)
            if len(self._hits) > MAX_KEYS:
                # drop keys whose newest hit is older than this window; if that frees nothing,
                # the oldest half (each entry still limits only its own key)
                fresh = {k: v for k, v in self._hits.items() if v and v[-1] > now - window}
                if len(fresh) > MAX_KEYS:
                    fresh = dict(sorted(fresh.items(), key=lambda kv: kv[1][-1])[len(fresh) // 2:])
                fresh[key] = hits
                self._hits = fresh
            return True

    def get_pref(self, user: str, name: str) -> str | None:
        with self._lock:
            return self._prefs.get((user, name))

    def set_pref(self, user: str, name: str, value: str) -> None:
        with self._lock:
            self._prefs[(user, name)] = value
