"""A faithful local stand-in for the AWS services the kit uses, built on moto.

It adds to moto what moto lacks — Rekognition video moderation replayed from recordings, the
SageMaker A2I control plane (human task UIs, flow definitions, a private work team,
RenderUiTemplate), the A2I runtime (human loops, answered by people in an offline worker portal
or by an auto reviewer, either way writing A2I's ``output.json``) and a SageMaker-Studio-like
identity — with the service's own limits and error codes.

Use it in-process::

    from helpers.offline import OfflineSettings, mocked

    with mocked(OfflineSettings(job_seconds=0)) as aws:
        rekognition = aws.client("rekognition")
        ...

or as a server for other processes (notebook kernels)::

    python -m helpers.offline serve --port 0 --env-file .kit/offline.env

Importing this package does nothing and needs no moto; :func:`install`, :func:`mocked` and
:func:`start_server` import moto (the ``offline`` extra) when called.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from helpers.offline.settings import (
    DEFAULT_REGION,
    DEFAULT_SEGMENT_GAP_MS,
    DEFAULT_WORKTEAM_NAME,
    OFFLINE_ACCESS_KEY_ID,
    OFFLINE_ACCOUNT_ID,
    OFFLINE_ROLE_NAME,
    OFFLINE_ROLE_PATH,
    OFFLINE_ROLE_SESSION_NAME,
    OFFLINE_SECRET_ACCESS_KEY,
    OFFLINE_SESSION_TOKEN,
    AutoReviewPolicy,
    OfflineSettings,
    advance_clock,
    current_settings,
    default_recordings_dir,
    offline_assumed_role_arn,
    offline_role_arn,
)

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from helpers.offline.inprocess import OfflineAWS
    from helpers.offline.server import OfflineServer

__all__ = [
    "DEFAULT_REGION",
    "DEFAULT_SEGMENT_GAP_MS",
    "DEFAULT_WORKTEAM_NAME",
    "OFFLINE_ACCESS_KEY_ID",
    "OFFLINE_ACCOUNT_ID",
    "OFFLINE_ROLE_NAME",
    "OFFLINE_ROLE_PATH",
    "OFFLINE_ROLE_SESSION_NAME",
    "OFFLINE_SECRET_ACCESS_KEY",
    "OFFLINE_SESSION_TOKEN",
    "AutoReviewPolicy",
    "OfflineSettings",
    "advance_clock",
    "current_settings",
    "default_recordings_dir",
    "install",
    "is_offline_identity",
    "mocked",
    "offline_assumed_role_arn",
    "offline_role_arn",
    "start_server",
]


def install() -> None:
    """Register the extensions with moto (idempotent).

    See :func:`helpers.offline.registration.install`.
    """
    from helpers.offline.registration import install as _install

    _install()


def mocked(settings: OfflineSettings | None = None) -> AbstractContextManager[OfflineAWS]:
    """In-process stand-in; see :func:`helpers.offline.inprocess.mocked`."""
    from helpers.offline.inprocess import mocked as _mocked

    return _mocked(settings)


def start_server(
    settings: OfflineSettings | None = None,
    port: int = 0,
    host: str = "127.0.0.1",
    env_file: str | os.PathLike[str] | None = None,
) -> OfflineServer:
    """Stand-in server in a background thread; see :func:`helpers.offline.server.start_server`."""
    from helpers.offline.server import start_server as _start_server

    return _start_server(settings, port=port, host=host, env_file=env_file)


def is_offline_identity(access_key_id: str | None) -> bool:
    """True for the offline access key (a session built on it talks to the stand-in)."""
    return access_key_id == OFFLINE_ACCESS_KEY_ID
