"""Run notebooks in order through papermill, each in a fresh Jupyter kernel, as ``make demo`` and
the tests do.

Every notebook goes through :func:`papermill.execute_notebook`: parameters are injected the
papermill way (a cell tagged ``injected-parameters`` after the notebook's ``parameters`` cell) and
the executed notebook carries papermill's metadata. The kit's speed lives behind papermill's own
engine interface, in the engine ``vmk`` (:class:`KitEngine`, registered as a ``papermill.engine``
entry point), which papermill's default nbclient engine would otherwise spend:

- **kernels started ahead.** Inside :func:`kernels` (which :func:`run` opens), each notebook's
  kernel is started while the notebook before it runs, and a finished kernel is stopped while
  the next notebook runs. The notebooks still run one after another, each in its own kernel.
- **one write.** The executed notebook is written once, when it ends (also when a cell raised),
  not after every cell.
- **fast shutdown.** Kernels skip the interpreter's final garbage collection and get SIGTERM
  half a second after a shutdown request they ignore.

The engine also works alone: ``papermill --engine vmk in.ipynb out.ipynb``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: The kit's papermill engine, as named in pyproject.toml's ``papermill.engine`` entry point.
ENGINE = "vmk"
#: Longest a single cell may run before the run is called stuck.
CELL_TIMEOUT_S = 900
#: How long a kernel may take to exit after its shutdown request before it is sent SIGTERM
#: (after half of it) and then killed. ipykernel sometimes sits on a shutdown request until
#: jupyter_client's default 2.5 s run out (jupyter/jupyter_client#756); a finished notebook has
#: nothing left to do.
SHUTDOWN_WAIT_S = 1.0
#: The kernels' command line:
#: - their own start-up and shutdown chatter is not the notebook's output;
#: - no IPython history file (nbclient's default, which it only sets for kernels it starts);
#: - at exit they skip the interpreter's last garbage collections over everything the notebook
#:   imported (pandas, boto3), which cost a third of a second per kernel. Nothing is
#:   lost: atexit handlers still run and objects still go by reference counting.
KERNEL_ARGUMENTS = [
    "--IPKernelApp.log_level=CRITICAL",
    "--HistoryManager.hist_file=:memory:",
    "--IPKernelApp.exec_lines=__import__('atexit').register(__import__('gc').freeze)",
]


@dataclass
class Outcome:
    """How one notebook ran: its executed copy, its seconds (from its turn, its kernel's start-up
    included where it was not yet ready), the parameters papermill injected, and the failure of
    the cell that raised, if one did."""

    path: Path
    target: Path
    seconds: float
    failure: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)


# --- kernels ---------------------------------------------------------------------------------


async def _start(kernel_name: str, cwd: str) -> Any:
    from jupyter_client.manager import AsyncKernelManager

    km = AsyncKernelManager(kernel_name=kernel_name, shutdown_wait_time=SHUTDOWN_WAIT_S)
    await km.start_kernel(extra_arguments=KERNEL_ARGUMENTS, cwd=cwd)
    return km


async def _stop(km: Any) -> None:
    try:
        if await km.is_alive():
            await km.shutdown_kernel()
    except RuntimeError as err:  # already gone
        log.debug("kernel shutdown: %s", err)
    finally:
        await km.cleanup_resources()


def _sync(coro: Callable[..., Any]) -> Callable[..., Any]:
    """``coro`` run on the loop nbclient uses in this thread (so kernels and clients share it)."""
    from jupyter_core.utils import run_sync

    return run_sync(coro)


class _Kernels:
    """The kernels of one run: the next notebooks' folders, a kernel started ahead for the next
    one, and the finished ones still stopping. Lives in one thread, on nbclient's loop there."""

    def __init__(self, folders: Sequence[str]) -> None:
        self.folders = list(folders)
        self.spare: tuple[str, str, asyncio.Task[Any]] | None = None
        self.stopping: list[asyncio.Task[None]] = []

    async def take(self, kernel_name: str, cwd: str) -> Any:
        """A started kernel for a notebook in ``cwd``; then the next one is started ahead."""
        if self.folders and self.folders[0] == cwd:
            self.folders.pop(0)
        spare, self.spare = self.spare, None
        if spare is not None and spare[:2] == (kernel_name, cwd):
            km = await spare[2]
        else:
            if spare is not None:  # made for another notebook than this one
                self._discard(spare[2])
            km = await _start(kernel_name, cwd)
        if self.folders:
            task = asyncio.create_task(_start(kernel_name, self.folders[0]))
            self.spare = (kernel_name, self.folders[0], task)
        return km

    async def stop_later(self, km: Any) -> None:
        self.stopping.append(asyncio.create_task(_stop(km)))

    def _discard(self, started: asyncio.Task[Any]) -> None:
        async def discard() -> None:
            try:
                km = await started
            except Exception as err:  # it failed to start: nothing to stop
                log.debug("unused kernel did not start: %s", err)
            else:
                await _stop(km)

        self.stopping.append(asyncio.create_task(discard()))

    async def close(self) -> None:
        if self.spare is not None:  # the run stopped early: the next notebook's kernel goes too
            self._discard(self.spare[2])
            self.spare = None
        await asyncio.gather(*self.stopping)


_local = threading.local()


@contextmanager
def kernels(folders: Sequence[Path | str]) -> Iterator[None]:
    """Within this block, the ``vmk`` engine starts each kernel ahead, while the notebook before
    it runs, and stops a finished kernel while the next runs. ``folders``: the folders of the
    notebooks about to run (their kernels' working directories), in order. On leaving, every
    kernel it started is stopped."""
    outer = getattr(_local, "kernels", None)
    _local.kernels = _Kernels([str(Path(f).resolve()) for f in folders])
    try:
        yield
    finally:
        current, _local.kernels = _local.kernels, outer
        _sync(current.close)()


def __getattr__(name: str) -> Any:
    # The engine class is made on first use: papermill loads this module's ``KitEngine`` while it
    # imports its own engines (the entry point), so importing papermill here at the top would be
    # circular.
    if name == "KitEngine":
        return _kit_engine()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def _kit_engine() -> type:
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine

    class KitEngine(NBClientEngine):
        """papermill's nbclient engine with the kit's speed-ups: kernels started ahead (inside
        :func:`kernels`), the executed notebook written once (papermill writes it when the notebook
        ends), fast kernel shutdown. Registered with papermill as ``vmk``."""

        @classmethod
        def execute_notebook(
            cls, nb: Any, kernel_name: str, output_path: Any = None, **kwargs: Any
        ):
            # no write after every cell: papermill writes the notebook when it ends, also on failure
            return super().execute_notebook(nb, kernel_name, output_path=None, **kwargs)

        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man: Any,
            kernel_name: str,
            log_output: bool = False,
            stdout_file: Any = None,
            stderr_file: Any = None,
            start_timeout: int = 60,
            execution_timeout: int | None = None,
            **kwargs: Any,
        ) -> Any:
            kwargs.pop("input_path", None)
            kwargs.pop("km", None)
            session: _Kernels | None = getattr(_local, "kernels", None)
            cwd = os.getcwd()  # papermill has moved into the notebook's working directory
            if session is not None:
                km = _sync(session.take)(kernel_name, cwd)
            else:
                km = _sync(_start)(kernel_name, cwd)
            client = PapermillNotebookClient(
                nb_man,
                km=km,
                timeout=execution_timeout or CELL_TIMEOUT_S,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log=log,
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
                **kwargs,
            )
            try:
                return client.execute()
            finally:
                if client.kc is not None:
                    client.kc.stop_channels()
                if session is not None:
                    _sync(session.stop_later)(km)
                else:
                    _sync(_stop)(km)

    return KitEngine


# --- running notebooks -------------------------------------------------------------------------


def prepare() -> None:
    """Import papermill and the Jupyter client machinery now (a second on a cold start), not in
    a run."""
    import jupyter_client.manager  # noqa: F401
    import nbformat  # noqa: F401
    import papermill  # noqa: F401


def declared(path: Path) -> set[str]:
    """The names a notebook's ``parameters`` cell declares (papermill's ``inspect_notebook``)."""
    import papermill

    return set(papermill.inspect_notebook(str(path)))


def parameters_for(path: Path, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Of ``parameters``, those that ``path`` declares in its ``parameters`` cell."""
    if not parameters:
        return {}
    names = declared(path)
    return {name: value for name, value in parameters.items() if name in names}


def _register() -> None:
    """The engine under its name also where this source tree was not installed (no entry point)."""
    from papermill.engines import papermill_engines
    from papermill.exceptions import PapermillException

    try:
        papermill_engines.get_engine(ENGINE)
    except PapermillException:
        papermill_engines.register(ENGINE, _kit_engine())


def run(
    paths: Sequence[Path],
    out_dir: Path,
    *,
    parameters: Mapping[str, Any] | None = None,
    after_each: Callable[[Outcome], bool] | None = None,
    engine: str | None = ENGINE,
) -> list[Outcome]:
    """Execute ``paths`` in order into ``out_dir`` through papermill (engine ``vmk``), each in a
    fresh ``python3`` kernel started in its notebook's folder.

    Each notebook gets those of ``parameters`` that its ``parameters`` cell declares (papermill
    injects them in a cell of their own). Kernels inherit this process's environment.
    ``after_each(outcome)`` is called when a notebook has ended; returning False stops the run.
    Callable where an event loop already runs (a Jupyter kernel, Playwright's sync API): the run
    then happens in a worker thread. ``engine=None`` is papermill's default engine (the bench
    compares the two).
    """

    def go() -> list[Outcome]:
        return _run(list(paths), out_dir, dict(parameters or {}), after_each, engine)

    try:
        asyncio.get_running_loop()
    except RuntimeError:  # the usual case: no loop in this thread
        return go()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="vmk-runner") as pool:
        return pool.submit(go).result()


def _run(
    paths: list[Path],
    out_dir: Path,
    parameters: dict[str, Any],
    after_each: Callable[[Outcome], bool] | None,
    engine: str | None,
) -> list[Outcome]:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    _register()
    out_dir.mkdir(parents=True, exist_ok=True)
    outcomes: list[Outcome] = []
    with kernels([path.parent for path in paths]):
        for path in paths:
            began = time.monotonic()
            given = parameters_for(path, parameters)
            target = out_dir / path.name
            failure = None
            try:
                papermill.execute_notebook(
                    path,
                    target,
                    parameters=given,
                    engine_name=engine,
                    kernel_name="python3",
                    cwd=path.parent,
                    progress_bar=False,
                )
            except PapermillExecutionError as err:
                failure = f"{err.ename}: {err.evalue}"
            outcome = Outcome(path, target, time.monotonic() - began, failure, given)
            outcomes.append(outcome)
            if after_each is not None and not after_each(outcome):
                break
    return outcomes
