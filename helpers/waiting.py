"""Waiting for AWS: exponential backoff with jitter, under a deadline.

Rekognition video jobs, flow definitions and human loops have no boto3 waiter. The lab polls
every 5 s forever; the kit backs off (so a 20-minute job costs a few dozen calls, not hundreds),
and gives up at a deadline with an error that says what to check.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from helpers.errors import WaitTimeout

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """Polling schedule: ``first`` seconds, growing by ``factor`` up to ``cap``, ±``jitter``."""

    first: float = 1.0
    factor: float = 1.6
    cap: float = 30.0
    jitter: float = 0.2

    def delays(self, rng: random.Random | None = None):
        """An endless iterator of delays in seconds."""
        rng = rng or random.Random()
        delay = self.first
        while True:
            spread = delay * self.jitter
            yield max(0.0, delay + rng.uniform(-spread, spread))
            delay = min(self.cap, delay * self.factor)


def wait_until(
    fetch: Callable[[], T],
    done: Callable[[T], bool],
    *,
    what: str,
    timeout: float,
    advice: str,
    backoff: Backoff | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    on_poll: Callable[[T, float], None] | None = None,
) -> T:
    """Call ``fetch`` until ``done(result)`` is true and return that result.

    ``what`` names the thing awaited and ``advice`` what to check when it times out; both go
    into the :class:`~helpers.errors.WaitTimeout` raised after ``timeout`` seconds. ``fetch``
    may raise to stop early (a failed state is usually best raised from ``done``).
    ``on_poll(result, elapsed)`` is called after every poll (progress display).
    """
    start = clock()
    delays = (backoff or Backoff()).delays()
    while True:
        result = fetch()
        elapsed = clock() - start
        if on_poll is not None:
            on_poll(result, elapsed)
        if done(result):
            log.info("%s after %.1f s", what, elapsed)
            return result
        remaining = timeout - elapsed
        if remaining <= 0:
            raise WaitTimeout(f"{what} did not happen within {timeout:.0f} s", advice)
        sleep(min(next(delays), remaining))
