"""Registration of the stand-in's extensions with moto (explicit, idempotent)."""

from __future__ import annotations

import logging
import threading

LOG = logging.getLogger("helpers.offline")
_LOCK = threading.Lock()
_INSTALLED = False


def install() -> None:
    """Teach the installed moto the kit's operations. Safe to call any number of times.

    Adds Rekognition StartContentModeration/GetContentModeration, the SageMaker A2I control
    plane (human task UIs, flow definitions, work teams, their tags), the
    ``sagemaker-a2i-runtime`` service and the offline STS/IAM identity. Call it before
    ``moto.mock_aws()`` starts (:func:`helpers.offline.mocked` and
    :func:`helpers.offline.start_server` do). It changes moto's classes for the rest of the
    process; behaviour for requests that do not use the new operations or the offline access
    key is unchanged.

    Raises :class:`~helpers.offline.moto_compat.UnsupportedMoto` when moto's internals moved.
    """
    global _INSTALLED
    with _LOCK:
        if _INSTALLED:
            return
        from helpers.offline import moto_compat

        moto_compat.require_supported_moto()
        from helpers.offline import (
            a2i_runtime,
            faults,
            identity,
            rekognition,
            render,
            s3,
            sagemaker,
        )

        faults.register()
        a2i_runtime.register()
        rekognition.register()
        sagemaker.register()
        render.register()
        identity.register()
        s3.register()
        _INSTALLED = True
        LOG.debug("offline stand-in installed into moto %s", moto_compat.moto_version())


def installed() -> bool:
    """True once :func:`install` has run in this process."""
    return _INSTALLED
