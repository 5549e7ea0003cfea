"""Waiting for AWS: exponential backoff with jitter, under a deadline.

Rekognition video jobs, flow definitions and human loops have no boto3 waiter. The lab polls
every 5 s forever; the kit backs off (so a 20-minute job costs a few dozen calls, not hundreds),
and gives up at a deadline with an error that says what to check.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from helpers.errors import WaitTimeout, explained, kit_step

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """Polling schedule with jitter, capped at ``cap`` seconds.

    Exponential (the default): ``first`` seconds, growing by ``factor``, ±``jitter``.
    Proportional (``fraction`` set): wait ``fraction`` of the time waited so far, at least
    ``first``, minus up to ``jitter`` of it, so completion is noticed within ``fraction`` of
    the job's duration (10% for moderation jobs) with few calls on long jobs.
    """

    first: float = 1.0
    factor: float = 1.6
    cap: float = 30.0
    jitter: float = 0.2
    fraction: float | None = None

    def delay(self, attempt: int, elapsed: float, rng: random.Random) -> float:
        """Seconds to wait before poll number ``attempt + 1``, ``elapsed`` s into the wait."""
        if self.fraction is not None:
            base = min(self.cap, max(self.first, self.fraction * elapsed))
            return base * (1.0 - self.jitter * rng.random())  # never later than the fraction
        base = min(self.cap, self.first * self.factor**attempt)
        return max(0.0, base * (1.0 + self.jitter * rng.uniform(-1.0, 1.0)))

    def delays(self, rng: random.Random | None = None) -> Iterator[float]:
        """An endless iterator of exponential delays in seconds."""
        rng = rng or random.Random()
        attempt = 0
        while True:
            yield self.delay(attempt, 0.0, rng) if self.fraction is None else self.first
            attempt += 1


#: How the kit polls a moderation job: notices the end within 10% of the job's duration.
MODERATION_BACKOFF = Backoff(first=1.0, cap=120.0, jitter=0.2, fraction=0.1)


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

    Each fetch runs inside :func:`~helpers.errors.explained`: when AWS or the stand-in stops
    answering mid-wait (``EndpointConnectionError``), the wait ends with a
    :class:`~helpers.errors.ServiceUnreachable` naming what was awaited and what to do, and an
    AWS refusal with an explained :class:`~helpers.errors.KitError`.
    """
    start = clock()
    policy = backoff or Backoff()
    rng = random.Random()
    attempt = 0
    doing = f"the wait for {what[:1].lower()}{what[1:]}"
    while True:
        with explained(doing):
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
        sleep(min(policy.delay(attempt, elapsed, rng), remaining))
        attempt += 1


@kit_step
def until_done(
    rekognition: Any,
    job_id: str,
    *,
    timeout: float = 3600.0,
    inbox: Any = None,
    backoff: Backoff | None = None,
) -> dict[str, Any]:
    """Wait for a Rekognition video job; return the last GetContentModeration answer.

    Backs off (:data:`MODERATION_BACKOFF`), or with an ``inbox`` (:mod:`helpers.notify`) waits
    for Rekognition's SNS notice and asks once; a progress line shows the phase and the time
    waited. A ``FAILED`` job raises :class:`~helpers.errors.ModerationJobFailed` with
    Rekognition's ``StatusMessage`` (the lab would carry on with no labels).
    """
    from helpers.moderation import wait_for_moderation  # moderation builds on this module

    return wait_for_moderation(rekognition, job_id, timeout=timeout, inbox=inbox, backoff=backoff)
