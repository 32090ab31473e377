"""Bounded worker pools for slow work, so Bolt's 5 listener threads only ever ack.

Slack wants an ack within 3 s. Bolt runs listeners (and lazy listeners) on one shared 5-thread
executor, so a check held there starves every later ack. Work goes to a pool of its own with a cap
on running plus queued jobs; when the cap is reached the caller answers "busy" instead of queueing
forever.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

log = logging.getLogger("smtpbot.workers")


class BoundedPool:
    """A thread pool that refuses work above `max_pending` running-plus-queued jobs."""

    def __init__(self, workers: int, max_pending: int, name: str) -> None:
        self.name = name
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._slots = threading.BoundedSemaphore(max(max_pending, workers))

    def reserve(self) -> bool:
        """Take a slot without blocking; False means "busy". Follow with `start()`."""
        return self._slots.acquire(blocking=False)

    def start(
        self, fn: Callable[..., Any], *args: Any, on_error: Callable[[BaseException], None] | None = None
    ) -> None:
        """Run `fn(*args)` in a reserved slot; failures are logged and passed to `on_error`."""

        def job() -> None:
            try:
                fn(*args)
            except Exception as exc:  # every failure becomes a log line, never a dead worker
                log.exception("%s job %s failed", self.name, getattr(fn, "__name__", fn))
                if on_error is not None:
                    try:
                        on_error(exc)
                    except Exception:
                        log.exception("%s error callback failed", self.name)
            finally:
                self._slots.release()

        try:
            self._executor.submit(job)
        except RuntimeError:  # shut down: give the slot back
            self._slots.release()
            raise

    def submit(
        self, fn: Callable[..., Any], *args: Any, on_error: Callable[[BaseException], None] | None = None
    ) -> bool:
        """Reserve and start in one call; False (and nothing run) when busy."""
        if not self.reserve():
            return False
        self.start(fn, *args, on_error=on_error)
        return True

    def shutdown(self, wait: bool = True, cancel_pending: bool = False) -> None:
        """Stop taking work; with `wait`, let running jobs finish; `cancel_pending` drops queued ones."""
        self._executor.shutdown(wait=wait, cancel_futures=cancel_pending or not wait)
