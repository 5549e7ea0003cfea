"""Errors the kit raises: each says what went wrong and what to do next.

Every error derives from :class:`KitError`, so a notebook can catch one type. The message is
written for a workshop attendee, not for a stack-trace reader.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


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


class StateCorrupt(KitError):
    """The run's state file exists but is not the JSON object the kit writes."""


class StateUnusable(KitError):
    """The run's state file cannot be read or written (a folder, no permission, disk full)."""


class ServiceUnreachable(KitError):
    """AWS (or the offline stand-in) cannot be reached: the network or the server is gone."""


# --- AWS errors, explained -----------------------------------------------------------------------

THROTTLING = {
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "SlowDown",
}
DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Forbidden"}


def unreachable(error: Exception, doing: str = "the call") -> ServiceUnreachable:
    """A :class:`ServiceUnreachable` for botocore's connection errors (no answer at all)."""
    endpoint = getattr(error, "kwargs", {}).get("endpoint_url") or "AWS"
    offline = "AWS_ENDPOINT_URL" in os.environ
    where = "the offline stand-in" if offline else "AWS"
    fix = (
        "start the stand-in again (`make serve` or `make lab`) with the same port, then run the "
        "cell again; what was recorded is kept"
        if offline
        else "check the network (and any proxy or VPC endpoint), then run the cell again; "
        "nothing was lost: a job or loop that was started keeps running and is found again"
    )
    return ServiceUnreachable(
        f"{where} did not answer during {doing} ({type(error).__name__} at {endpoint})", fix
    )


def local_file_error(error: OSError) -> InputError:
    """An :class:`InputError` for a local path that is missing, of the wrong kind or not ours."""
    path = error.filename
    if isinstance(error, FileNotFoundError):
        what = f"`{path}` does not exist (looked for from {os.getcwd()})"
        fix = "check the path in the parameters cell (paths are relative to the notebook)"
    elif isinstance(error, NotADirectoryError):
        what = f"`{path}` is a file where a folder was expected"
        fix = "give the folder's path"
    elif isinstance(error, IsADirectoryError):
        what = f"`{path}` is a folder where a file was expected"
        fix = "give the file's path"
    else:
        what = f"The kit may not read or write `{path}` ({error.strerror})"
        fix = "check the file's permissions (chmod u+rw), or use a path in your home folder"
    return InputError(what, fix)


def _connection_errors() -> tuple[type[Exception], ...]:
    from botocore import exceptions as bx

    return (bx.EndpointConnectionError, bx.ConnectionError, bx.HTTPClientError)


def explain(error: Exception) -> KitError:
    """A :class:`KitError` for a botocore error: what AWS refused, and what to do.

    ``ClientError`` (AWS answered no), connection errors (nobody answered: the network or the
    stand-in is gone) and ``ParamValidationError`` (botocore refused a value before sending)
    are explained. boto3's transfer manager wraps the ClientError of a failed upload in
    S3UploadFailedError; the ClientError inside is explained.
    """
    from botocore.exceptions import ParamValidationError

    if isinstance(error, KitError):
        return error
    if isinstance(error, _connection_errors()):
        return unreachable(error, getattr(error, "operation_name", "the call"))
    if isinstance(error, ParamValidationError):
        return InputError(
            f"A value given to AWS has the wrong form: {error.kwargs.get('report', error)}",
            'numbers are written without quotes (50, not "50"); fix the value in the '
            "parameters cell and run the cell again; nothing was sent",
        )
    inner = error.__cause__ or error.__context__
    if not hasattr(error, "response") and inner is not None and hasattr(inner, "response"):
        error = inner
    response = getattr(error, "response", {}) or {}
    code = response.get("Error", {}).get("Code", type(error).__name__)
    message = response.get("Error", {}).get("Message", str(error))
    operation = getattr(error, "operation_name", "the call")
    if code in THROTTLING:
        return KitError(
            f"AWS is throttling {operation} ({code}), still after the kit's retries",
            "wait a minute and run the cell again; nothing was lost. If it keeps happening, "
            "ask for a higher quota in Service Quotas",
        )
    if code == "LimitExceededException":
        return KitError(
            f"{operation}: the account's quota is full ({message})",
            "Rekognition runs about 20 video jobs at a time: wait for running jobs to finish, "
            "or use notebook 06, which queues videos",
        )
    if code in DENIED:
        return KitError(
            f"Your role may not call {operation} ({code}: {message})",
            "attach templates/iam/notebook-role-policy.json (filled for your account) to the "
            "notebook's execution role, then run the cell again",
        )
    if code.startswith("ResourceNotFound") or code in ("NoSuchKey", "NoSuchBucket"):
        return KitError(
            f"{operation}: something the lab needs is gone ({code}: {message})",
            "run the notebooks in order; after clean up, start again with 01_setup.ipynb",
        )
    return KitError(
        f"AWS refused {operation}: {code}: {message}",
        "read AWS's message above; the kit changed nothing else, so fix it and run the cell again",
    )


def kit_step(function: Callable[P, T]) -> Callable[P, T]:
    """Decorate a notebook step: AWS's ClientErrors come out as explained :class:`KitError`."""

    @functools.wraps(function)
    def step(*args: P.args, **kwargs: P.kwargs) -> T:
        with explained(function.__name__):
            return function(*args, **kwargs)

    return step


@contextlib.contextmanager
def explained(doing: str = "the call") -> Iterator[None]:
    """Turn AWS's and botocore's errors raised inside into explained :class:`KitError`.

    ``with explained("waiting for the moderation job"): ...`` in a helper or a notebook cell:
    a refused call, a value botocore refuses, or an endpoint that stopped answering comes out
    as a KitError with what to do next.
    """
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import ClientError, ParamValidationError

    try:
        yield
    except _connection_errors() as error:
        raise unreachable(error, doing) from error
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError) as error:
        if error.filename is None:
            raise
        raise local_file_error(error) from error
    except (ClientError, S3UploadFailedError, ParamValidationError) as error:
        raise explain(error) from error


def show_readably() -> None:
    """In a notebook, show the kit's errors and AWS's refusals as what happened and what to do.

    A :class:`KitError` is shown as its message and fix, without a traceback. A cell that calls
    boto3 itself meets AWS's refusals unexplained (``ClientError``, ``S3UploadFailedError``);
    those are shown through :func:`explain`. The cell still fails (Run All stops there; the demo
    runner and nbval see the error).
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or getattr(shell, "_vmk_readable", False):
        return
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import ClientError

    def handler(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None):
        if not isinstance(value, KitError):
            value = explain(value)  # type: ignore[arg-type]
        lines = [f"\x1b[1;31m{type(value).__name__}: {value.what}\x1b[0m"]
        if value.fix:
            lines.append(f"\x1b[1mWhat to do:\x1b[0m {value.fix}")
        shell._showtraceback(type(value), value, lines)

    shell.set_custom_exc((KitError, ClientError, S3UploadFailedError), handler)
    shell._vmk_readable = True
