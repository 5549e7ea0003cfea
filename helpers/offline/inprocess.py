"""The stand-in inside the current Python process (under ``moto.mock_aws``)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from helpers.offline import settings as _settings
from helpers.offline.registration import install


def offline_environment(cfg: _settings.OfflineSettings) -> dict[str, str]:
    """Credentials and region of the offline identity (no endpoint: in-process needs none)."""
    return {
        "AWS_ACCESS_KEY_ID": _settings.OFFLINE_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": _settings.OFFLINE_SECRET_ACCESS_KEY,
        "AWS_SESSION_TOKEN": _settings.OFFLINE_SESSION_TOKEN,
        "AWS_DEFAULT_REGION": cfg.region,
    }


#: Variables that would send boto3 elsewhere or fail without a real profile; unset while mocked.
_UNSET = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION")


_SESSION: Any = None


def _session() -> Any:
    global _SESSION
    if _SESSION is None:
        import boto3

        _SESSION = boto3.Session(
            aws_access_key_id=_settings.OFFLINE_ACCESS_KEY_ID,
            aws_secret_access_key=_settings.OFFLINE_SECRET_ACCESS_KEY,
            aws_session_token=_settings.OFFLINE_SESSION_TOKEN,
        )
    return _SESSION


class OfflineAWS:
    """Handle on the in-process stand-in, yielded by :func:`mocked`."""

    def __init__(self, cfg: _settings.OfflineSettings) -> None:
        self.settings = cfg

    @property
    def region(self) -> str:
        """The region of :attr:`settings`."""
        return self.settings.region

    @property
    def account_id(self) -> str:
        """The account every request lands in (moto's default unless MOTO_ACCOUNT_ID is set)."""
        return os.environ.get("MOTO_ACCOUNT_ID", _settings.OFFLINE_ACCOUNT_ID)

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client of the offline identity in the settings' region.

        Equivalent to ``boto3.client(service, region_name=...)`` inside :func:`mocked`, but
        built from one cached ``boto3.Session`` with the offline credentials, so service
        models load once per process rather than once per client.
        """
        kwargs.setdefault("region_name", self.region)
        return _session().client(service, **kwargs)

    def advance(self, seconds: float) -> datetime:
        """Move the stand-in's clock forward; due SNS notifications are published."""
        moment = _settings.advance_clock(seconds)
        from helpers.offline import rekognition

        rekognition.notify_due_jobs()
        return moment

    def reset(self) -> None:
        """Wipe every moto backend (as ``POST /moto-api/reset`` does); settings stay."""
        from moto.core.base_backend import BackendDict

        BackendDict.reset()


@contextlib.contextmanager
def mocked(settings: _settings.OfflineSettings | None = None) -> Iterator[OfflineAWS]:
    """Run the stand-in in this process: ``with mocked() as aws: boto3.client(...)``.

    Installs the extensions, starts ``moto.mock_aws()``, makes ``settings`` active (a fresh
    :class:`OfflineSettings` when None) with the clock at real time, and points the process
    environment at the offline identity: the offline access key, secret and session token, and
    ``AWS_DEFAULT_REGION``; ``AWS_PROFILE``, ``AWS_DEFAULT_PROFILE``, ``AWS_REGION`` and
    ``AWS_ENDPOINT_URL*`` are unset. Everything is restored on exit, and moto drops its state.
    """
    from unittest import mock

    import moto

    install()
    cfg = settings if settings is not None else _settings.OfflineSettings()
    previous = _settings.activate(cfg)
    try:
        with moto.mock_aws(), mock.patch.dict(os.environ):
            for name in list(os.environ):
                if name in _UNSET or name.startswith("AWS_ENDPOINT_URL"):
                    del os.environ[name]
            os.environ.update(offline_environment(cfg))
            yield OfflineAWS(cfg)
    finally:
        _settings.restore(previous)
