"""What the worker portal and RenderUiTemplate share: where the portal is served and how a
worker task template is rendered (below both, so neither imports the other).

- :func:`set_base_url` / :func:`base_url`: the portal's absolute URL while a server runs (on
  the server's address; only RenderUiTemplate's media URLs use it, the portal's own pages link
  with paths, on whichever loopback name the reviewer opened);
- :func:`media_path` / :func:`grant_read_access`: ``s3://bucket/key`` → the portal's media URL;
- :func:`render_task`: a template rendered for a task's input as A2I renders it (python-liquid,
  the environment of :mod:`helpers.preview`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

#: Where the portal answers (the server routes these paths to the portal before moto).
PREFIX = "/_portal/"

_BASE_URL: list[str] = []


def set_base_url(url: str | None) -> None:
    """Record (or forget, with None) the absolute URL the portal is served at."""
    _BASE_URL[:] = [url] if url else []


def base_url() -> str | None:
    """The portal's absolute URL while a stand-in server runs, else None."""
    return _BASE_URL[0] if _BASE_URL else None


def media_path(account_id: str, bucket: str, key: str) -> str:
    """The portal path that serves an S3 object's bytes."""
    return f"{PREFIX}media/{account_id}/{quote(bucket, safe='')}/{quote(key)}"


def grant_read_access(account_id: str, absolute: bool = False) -> Callable[[Any], str]:
    """A ``grant_read_access`` filter: ``s3://bucket/key`` → the portal's media URL.

    Other values are returned unchanged (autoescape still applies to them).
    """

    def grant(uri: Any) -> str:
        text = str(uri)
        if not text.startswith("s3://"):
            return text
        bucket, _, key = text[len("s3://") :].partition("/")
        path = media_path(account_id, bucket, key)
        root = base_url()
        if absolute and root:
            return root.rstrip("/") + path[len(PREFIX) - 1 :]
        return path

    return grant


def render_task(template: str, task_input: Any, grant: Callable[[Any], str]) -> str:
    """The template rendered for ``task_input`` as A2I renders it (python-liquid)."""
    from helpers import preview

    env = preview.liquid_environment(grant)
    return env.from_string(template).render(task={"input": task_input})
