"""botocore's service models, parsed once per machine rather than once per process.

Every new Python process that makes a boto3 client reads that service's model: JSON files of up
to a few MB, gzipped, parsed into ``OrderedDict``s (sagemaker's takes 0.05–0.1 s), and before
the first one botocore lists its data folders to learn which services exist (0.02 s for each
kind of file: models, endpoint rules, paginators). The lab runs each notebook in a new kernel,
so every notebook paid this again.

:func:`loader` makes botocore's own ``Loader`` (the object botocore lets a session share) with
two additions, both falling back to botocore's own reading on any doubt:

- a file loader that keeps what it parsed in a per-user folder, one pickle per source file,
  named after the file's path, size and modification time and botocore's version, so a changed
  or upgraded file is never answered from the cache;
- the list of available services kept there too, when every data folder searched is one that
  only a package upgrade changes (botocore's and boto3's own).

The cache is only trusted when its folder belongs to the user and no one else may write to it,
and it is read with an unpickler that can build nothing but ``collections.OrderedDict`` (the
only class botocore's JSON reading makes), so a file placed there cannot run code.
``VMK_BOTOCORE_CACHE`` names another folder, or is ``off`` to read every model from its JSON.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import io
import logging
import os
import pickle
import stat
import tempfile
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore
import botocore.loaders

log = logging.getLogger(__name__)

#: The extensions botocore reads models from, in its order (``.json.gz`` since botocore 1.32).
_EXTENSIONS = (".json", ".json.gz")
#: Data folders whose content changes only with the package's version.
_PACKAGE_DATA = frozenset(
    os.path.realpath(path)
    for path in (
        botocore.loaders.Loader.BUILTIN_DATA_PATH,
        os.path.join(os.path.dirname(boto3.__file__), "data"),
    )
)
_VERSION = f"botocore {botocore.__version__}, boto3 {boto3.__version__}"
_OFF = frozenset({"off", "0", "false", "no"})


def default_folder() -> Path | None:
    """``$VMK_BOTOCORE_CACHE``, else ``$XDG_CACHE_HOME`` or ``~/.cache`` then
    ``video-moderation-kit/botocore``, with a folder per botocore version below it (an old
    version's folder may be deleted at any time); ``None`` when turned off."""
    chosen = os.environ.get("VMK_BOTOCORE_CACHE", "").strip()
    if chosen.lower() in _OFF:
        return None
    if chosen:
        base = Path(chosen).expanduser().absolute()
    else:
        home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = Path(home) / "video-moderation-kit" / "botocore"
    return base / botocore.__version__


@contextlib.contextmanager
def _collector_waits() -> Iterator[None]:
    """The cyclic garbage collector paused while a model's tree of dicts is built: the build
    makes no garbage, yet some 100,000 new containers would set off full rounds over the whole
    heap (0.07 s of sagemaker's 0.09 s in a kernel that had imported pandas)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _OnlyOrderedDicts(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a model cache")


class Store:
    """Pickled values by key in one folder that only this user may write to."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder if folder is not None and _usable(folder) else None

    def _path(self, key: str) -> Path:
        assert self.folder is not None
        digest = hashlib.sha256(f"{_VERSION}\0{key}".encode()).hexdigest()[:40]
        return self.folder / f"{digest}.pickle"

    def get(self, key: str) -> Any:
        if self.folder is None:
            return None
        try:
            with open(self._path(key), "rb") as handle:
                if os.fstat(handle.fileno()).st_uid != os.getuid():
                    return None
                data = handle.read()
            with _collector_waits():
                return _OnlyOrderedDicts(io.BytesIO(data)).load()
        except FileNotFoundError:
            return None
        except Exception as err:  # a damaged or foreign file is a miss, never an error
            log.debug("botocore cache entry for %s unreadable: %s", key, err)
            return None

    def put(self, key: str, value: Any) -> None:
        if self.folder is None:
            return
        try:
            fd, temporary = tempfile.mkstemp(dir=self.folder, suffix=".part")
            try:
                with os.fdopen(fd, "wb") as handle:
                    pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(temporary, self._path(key))
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError as err:  # a full or read-only disk costs speed, not correctness
            log.debug("botocore cache entry for %s not written: %s", key, err)


def _usable(folder: Path) -> bool:
    """Create ``folder`` (mode 700) if needed; trust it only if it is ours and private (on
    POSIX systems: elsewhere ownership is not checked this way, so there is no cache)."""
    if not hasattr(os, "getuid"):
        return False
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
    except OSError as err:
        log.debug("botocore cache folder %s unusable: %s", folder, err)
        return False
    private = not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and private


class CachedFileLoader(botocore.loaders.JSONFileLoader):
    """botocore's JSON file loader, answering from :class:`Store` when the source file is the
    same one (path, size, modification time) that was parsed before."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def load_file(self, file_path: str) -> Any:
        for extension in _EXTENSIONS:
            try:
                info = os.stat(file_path + extension)
            except OSError:
                continue
            key = f"file\0{file_path}{extension}\0{info.st_size}\0{info.st_mtime_ns}"
            data = self.store.get(key)
            if data is None:
                with _collector_waits():
                    data = super().load_file(file_path)
                if data is not None:
                    self.store.put(key, data)
            return data
        return super().load_file(file_path)


class CachedLoader(botocore.loaders.Loader):
    """botocore's ``Loader`` whose service listing is kept in the cache when only packaged data
    folders are searched (the listing reads some 2,000 directory entries)."""

    store: Store

    @botocore.loaders.instance_cache
    def list_available_services(self, type_name: str) -> list[str]:
        searched = [os.path.realpath(p) for p in self.search_paths if os.path.isdir(p)]
        if not set(searched) <= _PACKAGE_DATA:
            return super().list_available_services(type_name)
        key = f"services\0{type_name}\0" + "\0".join(searched)
        services = self.store.get(key)
        if not isinstance(services, list):
            services = super().list_available_services(type_name)
            self.store.put(key, services)
        return services


def loader(data_path: str | None, folder: Path | None = None) -> CachedLoader:
    """A loader as ``botocore.loaders.create_loader(data_path)`` makes it (``AWS_DATA_PATH``'s
    folders first), caching in ``folder`` (default :func:`default_folder`)."""
    store = Store(folder if folder is not None else default_folder())
    extra = None
    if data_path:
        extra = [os.path.expanduser(os.path.expandvars(p)) for p in data_path.split(os.pathsep)]
    made = CachedLoader(extra_search_paths=extra, file_loader=CachedFileLoader(store))
    made.store = store
    return made
