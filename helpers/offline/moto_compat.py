"""The moto internals the stand-in builds on, and a check that they are still where we expect.

moto has no extension API (getmoto/moto#7126), so the stand-in relies on private pieces. Each
check below names one; :func:`problems` lists the ones that moved in the installed moto, and
:func:`~helpers.offline.install` refuses to run with a message naming them. The test module
``tests/offline/test_moto_internals.py`` runs the same checks one by one.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable
from importlib import metadata

from helpers.errors import ConfigurationError

SUPPORTED = ">=5.1.10,<5.3"
_MIN = (5, 1, 10)
_MAX_EXCLUSIVE = (5, 3)


class UnsupportedMoto(ConfigurationError):
    """The installed moto lacks an internal the offline stand-in relies on."""


def moto_version() -> str:
    """The installed moto's version string."""
    try:
        return metadata.version("moto")
    except metadata.PackageNotFoundError:
        return "not installed"


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def check_version() -> str | None:
    version = moto_version()
    parsed = _version_tuple(version)
    if not parsed or not _MIN <= parsed < _MAX_EXCLUSIVE:
        return f"moto {version} is outside the supported range {SUPPORTED}"
    return None


def check_dispatcher() -> str | None:
    """Server mode: ``DomainDispatcherApplication.infer_service_region_host(self, environ,
    path)`` picks the backend host from the SigV4 scope; the stand-in overrides it."""
    from moto.moto_server import werkzeug_app

    cls = getattr(werkzeug_app, "DomainDispatcherApplication", None)
    method = getattr(cls, "infer_service_region_host", None)
    if method is None:
        return "werkzeug_app.DomainDispatcherApplication.infer_service_region_host is gone"
    if list(inspect.signature(method).parameters) != ["self", "environ", "path"]:
        return (
            "DomainDispatcherApplication.infer_service_region_host changed signature to "
            f"{inspect.signature(method)}"
        )
    for name in ("create_backend_app", "MotoRequestHandler"):
        if not hasattr(werkzeug_app, name):
            return f"moto.moto_server.werkzeug_app.{name} is gone"
    source = inspect.getsource(cls.get_application)  # type: ignore[union-attr]
    if "infer_service_region_host" not in source:
        return (
            "DomainDispatcherApplication.get_application no longer calls infer_service_region_host"
        )
    return None


def check_url_patterns() -> str | None:
    """Routing: ``moto.backend_index.backend_url_patterns`` is a module-level list of
    (service name, compiled regex) read at call time by the botocore stubber and the server."""
    from moto import backend_index
    from moto.core import botocore_stubber

    patterns = getattr(backend_index, "backend_url_patterns", None)
    if not isinstance(patterns, list) or not all(
        isinstance(p, tuple) and len(p) == 2 and isinstance(p[1], re.Pattern) for p in patterns
    ):
        return "moto.backend_index.backend_url_patterns is not a list of (name, re.Pattern)"
    if "backend_index.backend_url_patterns" not in inspect.getsource(botocore_stubber):
        return "moto.core.botocore_stubber no longer reads backend_index.backend_url_patterns"
    return None


def check_get_backend() -> str | None:
    """Service lookup: ``moto.backends.get_backend(name)`` imports ``moto.<name without
    dashes>`` and reads ``<name without dashes>_backends``."""
    from moto import backends

    try:
        found = backends.get_backend("sagemaker-runtime")
    except Exception as error:  # pragma: no cover - only when moto moved
        return f"moto.backends.get_backend('sagemaker-runtime') failed: {error!r}"
    expected = importlib.import_module("moto.sagemakerruntime").sagemakerruntime_backends
    if found is not expected:
        return "moto.backends.get_backend no longer maps 'a-b' to moto.ab.ab_backends"
    return None


def check_action_resolution() -> str | None:
    """Actions: ``BaseResponse.call_action`` resolves the snake_case method on the Response
    class at call time (``method_names_from_class(self.__class__)``), so functions attached
    later are found."""
    from moto.core import responses, utils

    if not hasattr(utils, "method_names_from_class"):
        return "moto.core.utils.method_names_from_class is gone"
    # unwrap: helpers.offline.faults wraps call_action (functools.wraps keeps the original)
    source = inspect.getsource(inspect.unwrap(responses.BaseResponse.call_action))
    if "method_names_from_class(self.__class__)" not in source:
        return "BaseResponse.call_action no longer resolves actions from the class at call time"

    class Probe(responses.BaseResponse):
        pass

    def probe_action(self: object) -> None:
        return None

    Probe.probe_action = probe_action  # type: ignore[attr-defined]
    if "probe_action" not in utils.method_names_from_class(Probe):
        return "method_names_from_class does not see functions attached after class creation"
    return None


def check_results_and_errors() -> str | None:
    """Results: ``moto.core.responses.ActionResult``/``EmptyResult`` and
    ``moto.core.exceptions.ServiceException(code, message)``."""
    from moto.core import exceptions, responses

    for module, name in (
        (responses, "ActionResult"),
        (responses, "EmptyResult"),
        (exceptions, "ServiceException"),
    ):
        if not hasattr(module, name):
            return f"{module.__name__}.{name} is gone"
    error = exceptions.ServiceException("SomeCode", "some message")
    if (getattr(error, "code", None), getattr(error, "message", None)) != (
        "SomeCode",
        "some message",
    ):
        return "ServiceException(code, message) no longer sets code and message"
    return None


def check_backends() -> str | None:
    """Backends: ``BaseBackend._url_module`` (URL tables), the Rekognition, SageMaker, S3,
    SNS, IAM and STS backends and the methods the stand-in calls or wraps."""
    from moto.core.base_backend import BackendDict, BaseBackend

    if not isinstance(inspect.getattr_static(BaseBackend, "_url_module", None), property):
        return "moto.core.base_backend.BaseBackend._url_module is no longer a property"
    if not hasattr(BackendDict, "iter_backends"):
        return "BackendDict.iter_backends is gone"
    needed: dict[str, tuple[str, ...]] = {
        "moto.rekognition.models:rekognition_backends": (),
        "moto.rekognition.responses:RekognitionResponse": (),
        "moto.sagemaker.models:sagemaker_backends": (),
        "moto.sagemaker.models:SageMakerModelBackend": (
            "_get_resource_from_arn",
            "add_tags",
            "list_tags",
        ),
        "moto.sagemaker.responses:SageMakerResponse": (),
        "moto.s3.models:S3Backend": ("get_object", "put_object", "create_bucket"),
        "moto.s3.exceptions:InvalidBucketName": (),
        "moto.s3.models:s3_backends": (),
        "moto.sns.models:sns_backends": (),
        "moto.sns.models:SNSBackend": ("publish",),
        "moto.iam.models:IAMBackend": ("get_role", "get_role_by_arn", "create_role", "get_roles"),
        "moto.iam.models:iam_backends": (),
    }
    for target, methods in needed.items():
        module_name, _, attribute = target.partition(":")
        try:
            obj = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError):
            return f"{module_name}.{attribute} is gone"
        for method in methods:
            if not callable(getattr(obj, method, None)):
                return f"{module_name}.{attribute}.{method} is gone"
    return None


def check_sts_identity() -> str | None:
    """Identity: ``STSBackend.get_caller_identity(self, access_key_id, region)`` returns
    (user id, arn, account); the stand-in wraps it."""
    from moto.sts.models import STSBackend

    method = getattr(STSBackend, "get_caller_identity", None)
    if method is None:
        return "moto.sts.models.STSBackend.get_caller_identity is gone"
    original = inspect.unwrap(method)
    if list(inspect.signature(original).parameters) != ["self", "access_key_id", "region"]:
        return f"STSBackend.get_caller_identity changed signature to {inspect.signature(original)}"
    return None


CHECKS: dict[str, Callable[[], str | None]] = {
    "moto version": check_version,
    "server dispatcher": check_dispatcher,
    "backend_url_patterns": check_url_patterns,
    "get_backend naming rule": check_get_backend,
    "BaseResponse action resolution": check_action_resolution,
    "ActionResult/ServiceException": check_results_and_errors,
    "backends": check_backends,
    "STS get_caller_identity": check_sts_identity,
}


def problems() -> list[str]:
    """Every moved internal, as ``"<piece>: <what changed>"`` (empty when all is in place)."""
    found = []
    for piece, check in CHECKS.items():
        try:
            problem = check()
        except Exception as error:
            problem = f"check failed with {error!r}"
        if problem:
            found.append(f"{piece}: {problem}")
    return found


def require_supported_moto() -> None:
    """Raise :class:`UnsupportedMoto` naming every internal that moved."""
    found = problems()
    if found:
        raise UnsupportedMoto(
            f"the offline stand-in cannot extend moto {moto_version()}: " + "; ".join(found),
            "install a supported moto: pip install -r requirements.txt",
        )
