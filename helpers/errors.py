"""Errors the kit raises: each says what went wrong and what to do next.

Every error derives from :class:`KitError`, so a notebook can catch one type. The message is
written for a workshop attendee, not for a stack-trace reader.
"""

from __future__ import annotations


class KitError(Exception):
    """Base class of the kit's errors. ``str(err)`` is the whole advice."""

    def __init__(self, what: str, fix: str | None = None) -> None:
        self.what = what
        self.fix = fix
        super().__init__(f"{what} — {fix}" if fix else what)


class ConfigurationError(KitError):
    """Region, bucket, role or work team cannot be determined or is unusable."""


class InputError(KitError):
    """A value the kit was given would be rejected by AWS; nothing was sent."""


class ModerationJobFailed(KitError):
    """Rekognition ended the job FAILED; carries its StatusMessage."""

    def __init__(self, job_id: str, status_message: str) -> None:
        self.job_id = job_id
        self.status_message = status_message
        super().__init__(
            f"Rekognition moderation job `{job_id}` FAILED: {status_message or 'no StatusMessage'}",
            "check that the object is an H.264 MP4/MOV under 10 GB and 6 h, in a bucket of the "
            "client's region, then start a new job",
        )


class WaitTimeout(KitError):
    """Something did not reach the state the kit waited for before the deadline."""


class ResourceFailed(KitError):
    """An A2I resource (flow definition, human loop) ended in a failed state."""


class HumanLoopNotComplete(KitError):
    """A human loop has no output yet (still InProgress, or Stopped/Failed)."""


class OutputMissing(KitError):
    """A2I says the loop is Completed but its output.json cannot be read."""


class StateMissing(KitError):
    """A notebook needs something an earlier notebook records, and it is not recorded."""
