"""Run notebooks in order, each in a fresh Jupyter kernel, as ``make demo`` and the tests do.

A kernel takes about half a second to start, so the runner starts each notebook's kernel while
the notebook before it runs, and stops the finished kernel while the next notebook runs. The
notebooks themselves still run one after another, each in its own fresh kernel, as an attendee
runs them. Executed notebooks are written once, when they end (also when a cell raised).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

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
    included where it was not yet ready) and the failure of the cell that raised, if one did."""

    path: Path
    target: Path
    seconds: float
    failure: str | None = None


def prepare() -> None:
    """Import the Jupyter client machinery now (a second on a cold start), not in a run."""
    import jupyter_client.manager  # noqa: F401
    import nbclient  # noqa: F401
    import nbformat  # noqa: F401


def run(
    paths: Sequence[Path],
    out_dir: Path,
    *,
    after_each: Callable[[Outcome], bool] | None = None,
) -> list[Outcome]:
    """Execute ``paths`` in order into ``out_dir``, each in a fresh ``python3`` kernel.

    Kernels inherit this process's environment and start in their notebook's folder.
    ``after_each(outcome)`` is called when a notebook has ended; returning False stops the run.
    Callable where an event loop already runs (a Jupyter kernel, Playwright's sync API): the run
    then gets its own loop in a worker thread.
    """

    def go() -> list[Outcome]:
        return asyncio.run(_run(list(paths), out_dir, after_each))

    try:
        asyncio.get_running_loop()
    except RuntimeError:  # the usual case: no loop in this thread
        return go()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="vmk-runner") as pool:
        return pool.submit(go).result()


async def _start(path: Path) -> Any:
    from jupyter_client.manager import AsyncKernelManager

    km = AsyncKernelManager(kernel_name="python3", shutdown_wait_time=SHUTDOWN_WAIT_S)
    await km.start_kernel(extra_arguments=KERNEL_ARGUMENTS, cwd=str(path.parent))
    return km


async def _stop(km: Any) -> None:
    try:
        if await km.is_alive():
            await km.shutdown_kernel()
    except RuntimeError as err:  # already gone
        log.debug("kernel shutdown: %s", err)
    finally:
        await km.cleanup_resources()


async def _execute(km: Any, path: Path, target: Path) -> Outcome:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    loop = asyncio.get_running_loop()
    began = loop.time()
    book = nbformat.read(path, as_version=4)
    client = NotebookClient(
        book,
        km=km,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    failure = None
    try:
        await client.async_execute()
    except CellExecutionError as err:
        failure = f"{err.ename}: {err.evalue}"
    finally:
        if client.kc is not None:
            client.kc.stop_channels()
        nbformat.write(book, target)
    return Outcome(path, target, loop.time() - began, failure)


async def _run(
    paths: list[Path], out_dir: Path, after_each: Callable[[Outcome], bool] | None
) -> list[Outcome]:
    out_dir.mkdir(parents=True, exist_ok=True)
    outcomes: list[Outcome] = []
    stopping: list[asyncio.Task[None]] = []
    upcoming: asyncio.Task[Any] | None = asyncio.create_task(_start(paths[0])) if paths else None
    try:
        for index, path in enumerate(paths):
            assert upcoming is not None
            km = await upcoming
            upcoming = None
            if index + 1 < len(paths):
                upcoming = asyncio.create_task(_start(paths[index + 1]))
            try:
                outcome = await _execute(km, path, out_dir / path.name)
            finally:
                stopping.append(asyncio.create_task(_stop(km)))
            outcomes.append(outcome)
            if after_each is not None and not after_each(outcome):
                break
    finally:
        if upcoming is not None:  # the run stopped early: the next notebook's kernel goes too
            try:
                stopping.append(asyncio.create_task(_stop(await upcoming)))
            except Exception as err:  # it failed to start: nothing to stop
                log.debug("unused kernel did not start: %s", err)
        await asyncio.gather(*stopping)
    return outcomes
