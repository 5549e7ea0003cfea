"""Run notebooks in order through papermill, each in a fresh Jupyter kernel, as ``make demo`` and
the tests do.

Every notebook goes through :func:`papermill.execute_notebook`: parameters are injected the
papermill way (a cell tagged ``injected-parameters`` after the notebook's ``parameters`` cell) and
the executed notebook carries papermill's metadata. The kit's speed lives behind papermill's own
engine interface, in the engine ``vmk`` (:class:`KitEngine`, registered as a ``papermill.engine``
entry point), which papermill's default nbclient engine would otherwise spend:

- **kernels started ahead.** Inside :func:`kernels` (which :func:`run` opens), the next
  notebook's kernel is started while a notebook runs, and once the kernels starting up are
  through, the one after it too (up to :data:`AHEAD` waiting: one start-up at a time unless a
  notebook is quicker than a start-up). A finished kernel is stopped while the next notebook
  runs. The notebooks still run one after another, each in its own kernel.
- **imports warmed ahead.** Every kernel also imports, as part of its own start-up (before it
  answers its first request, so for a kernel started ahead before its notebook's turn), the
  modules that its notebook's cells import at their top level (:func:`imports_of`: ``import
  pandas``, ``from helpers import loops``; never an import inside an ``if``, ``try`` or function).
  It binds no name: the notebook's own import statements still run, and find the modules loaded.
  An import that fails is left for the notebook's cell to report. Importing is what a kernel does
  first and costs most (pandas, boto3: half a second), and it then happens on the machine's other
  core while the notebook before runs. Nothing but the kernel's command line changes: no second
  connection to the kernel. A notebook that imports nothing (the bench's empty notebooks) gets
  nothing warmed. What was imported is then left out of garbage collection (``gc.freeze``), and
  the kernels' OpenBLAS threads idle briefly (:data:`KERNEL_ENVIRONMENT`).
- **one write.** The executed notebook is written once, when it ends (also when a cell raised),
  not after every cell.
- **fast shutdown.** Kernels skip the interpreter's final garbage collection and get SIGTERM
  half a second after a shutdown request they ignore.
- **no stalled replies.** The wait for a kernel's reply asks the socket itself every
  :data:`REPLY_LOOK_S`: nbclient's own sends on that socket (an output widget's state) could
  otherwise hide a reply until the cell's timeout (:func:`_patient_client`).

The engine also works alone: ``papermill --engine vmk in.ipynb out.ipynb``.
"""

from __future__ import annotations

import ast
import asyncio
import functools
import logging
import os
import shutil
import tempfile
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
#: Longest a kernel started ahead is waited for to get through its start-up (imports included)
#: before the one after it is started anyway.
WARM_TIMEOUT_S = 120
#: How many kernels may wait ahead, started for the next notebooks.
AHEAD = 2
#: Longest a wait for a kernel's reply goes without asking the socket itself whether the reply
#: is there (see :func:`_patient_client`).
REPLY_LOOK_S = 0.25
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
#: The kernels' environment, where this process's does not say otherwise. OpenBLAS (numpy's
#: linear algebra, loaded with pandas) lets its idle threads spin for 2**28 cycles before they
#: sleep (its default ``THREAD_TIMEOUT`` of 28); kernels here run side by side, one notebook
#: while the next kernel starts, and spinning threads took the CPU the other one needed: 0.1 s
#: per kernel that imports pandas. 2**4 cycles keeps BLAS's threads and their results as they
#: are; only their idle wait is shorter.
KERNEL_ENVIRONMENT = {"OPENBLAS_THREAD_TIMEOUT": "4"}


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


def imports_of(nb: Any) -> tuple[str, ...]:
    """The modules a notebook's code cells import at their top level, in order, each once.

    ``import a.b`` gives ``a.b``; ``from a import b, c`` gives ``a``, ``a.b`` and ``a.c`` (``b``
    may be a module or a name in ``a``: warming tries both). Relative imports, imports nested in
    ``if``/``try``/functions and cells that are not plain Python (magics) are left out.
    """
    names: dict[str, None] = {}
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        try:
            body = ast.parse(source).body
        except SyntaxError:  # IPython magics or shell lines: not warmed
            continue
        for node in body:
            if isinstance(node, ast.Import):
                names.update(dict.fromkeys(alias.name for alias in node.names))
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names[node.module] = None
                names.update(
                    dict.fromkeys(f"{node.module}.{a.name}" for a in node.names if a.name != "*")
                )
    return tuple(names)


#: Run by every kernel whose notebook imports something, at its start-up: imports ``names``,
#: binding nothing in the notebook's namespace (it runs in globals of its own); a module that is
#: not there or fails is left for the notebook's own import to meet and report. The cyclic
#: garbage collector waits meanwhile, and then leaves what was imported out of its rounds
#: (``gc.freeze``): modules live as long as the kernel, and a full round over them took
#: 0.05-0.14 s each time a cell made many objects (0.6 s of the lab's kernels' CPU, 1.0 s with
#: the younger rounds).
_WARM = """\
import gc, importlib
gc.disable()
try:
    for name in {names!r}:
        try:
            importlib.import_module(name)
        except Exception:
            pass
finally:
    gc.freeze()
    gc.enable()
"""


def warm_arguments(names: Sequence[str], started_file: str | None = None) -> list[str]:
    """The kernel command-line arguments that have it import ``names`` while it starts, and
    then create ``started_file`` (empty) to say its start-up is over."""
    lines = []
    if names:
        lines.append(f"exec({_WARM.format(names=tuple(names))!r}, {{}})")
    if started_file:
        lines.append(f"open({started_file!r}, 'w').close()")
    return [f"--IPKernelApp.exec_lines={line}" for line in lines]


@functools.cache
def _patient_client() -> type:
    """jupyter_client's asyncio kernel client, but its wait for a shell reply never sleeps
    through the reply.

    nbclient sends on the shell socket while it waits for a reply on that same socket: an output
    widget's state, synced back to the kernel as the cell runs (``ipywidgets.Output``: the
    threshold widget of notebook 08). On an asyncio ZeroMQ socket such a send can consume the
    socket's wake-up (its file descriptor is edge-triggered), and the reply then sits unread
    until the wait times out: a run stalled for the whole cell timeout (jupyter/nbclient#312).
    Here the wait goes in steps of :data:`REPLY_LOOK_S`, and after each step the socket itself
    is asked, so a reply is read at most that late.
    """
    from queue import Empty

    from jupyter_client.asynchronous import AsyncKernelClient
    from jupyter_client.channels import AsyncZMQSocketChannel
    from traitlets import Type

    class PatientShellChannel(AsyncZMQSocketChannel):
        async def get_msg(self, timeout: float | None = None) -> dict[str, Any]:
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                left = REPLY_LOOK_S if deadline is None else deadline - time.monotonic()
                try:
                    return await super().get_msg(timeout=max(0.0, min(REPLY_LOOK_S, left)))
                except Empty:  # (a step under a millisecond would be a poll of 0 ms)
                    if deadline is not None and deadline - time.monotonic() < 0.001:
                        raise

    class PatientKernelClient(AsyncKernelClient):
        shell_channel_class = Type(PatientShellChannel)

    return PatientKernelClient


async def _start(
    kernel_name: str, cwd: str, warm: Sequence[str] = (), started_file: str | None = None
) -> Any:
    """A kernel started in ``cwd``; with ``warm``, it imports those modules as it starts up.

    It is returned once launched: it answers its first request (nbclient's ``kernel_info``) when
    its start-up, imports included, is over, and then creates ``started_file``."""
    from jupyter_client.manager import AsyncKernelManager

    km = AsyncKernelManager(
        kernel_name=kernel_name,
        shutdown_wait_time=SHUTDOWN_WAIT_S,
        client_factory=_patient_client(),
    )
    extra = KERNEL_ARGUMENTS + warm_arguments(warm, started_file)
    await km.start_kernel(extra_arguments=extra, cwd=cwd, env=_environment())
    return km


def _environment() -> dict[str, str]:
    """This process's environment, and :data:`KERNEL_ENVIRONMENT` where it is silent."""
    return {**KERNEL_ENVIRONMENT, **os.environ}


async def _started_up(km: Any, started_file: str) -> bool:
    """Whether ``km``'s kernel got through its start-up (it created ``started_file``); False if
    it died first or took over :data:`WARM_TIMEOUT_S`. Asks the kernel nothing."""
    deadline = time.monotonic() + WARM_TIMEOUT_S
    checked = time.monotonic()
    while time.monotonic() < deadline:
        if os.path.exists(started_file):
            return True
        if time.monotonic() - checked > 1.0:
            checked = time.monotonic()
            if not await km.is_alive():
                return False
        await asyncio.sleep(0.02)
    return False


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


#: A notebook about to run, as a kernel is made for it: its folder and the modules it imports.
_Plan = tuple[str, tuple[str, ...]]


class _Kernels:
    """The kernels of one run. Lives in one thread, on nbclient's loop there.

    When a notebook takes its kernel, the next notebook's kernel is started, if it was not yet.
    Whenever the kernels being started have all got through their start-up (imports included),
    the kernel of the notebook after is started too, up to :data:`AHEAD` waiting. So one kernel
    starts up at a time unless a notebook is quicker than a start-up, and a long notebook has the
    next two kernels ready by its end. Finished kernels are stopped while the next notebook runs.
    """

    def __init__(self, plans: Sequence[_Plan]) -> None:
        self.plans = list(plans)  # the next notebooks that have no kernel yet
        self.spares: list[tuple[str, _Plan, asyncio.Task[Any]]] = []  # started ahead, in order
        self.starting = 0  # kernels started and not yet through their start-up
        self.watching: set[asyncio.Task[None]] = set()
        self.stopping: list[asyncio.Task[None]] = []
        self.folder = tempfile.mkdtemp(prefix="vmk-kernels-")
        self.made = 0

    def _launch(self, kernel_name: str, plan: _Plan) -> asyncio.Task[Any]:
        """Start a kernel for ``plan``; once it is through its start-up, :meth:`_fill`."""
        self.made += 1
        started_file = os.path.join(self.folder, f"{self.made}.started")
        task = asyncio.create_task(_start(kernel_name, *plan, started_file=started_file))
        self.starting += 1

        async def watch() -> None:
            try:
                await _started_up(await task, started_file)
            except Exception as err:  # it failed to start: the notebook's turn will say so
                log.debug("kernel did not start: %s", err)
            finally:
                self.starting -= 1
            self._fill(kernel_name)

        watcher = asyncio.create_task(watch())
        self.watching.add(watcher)
        watcher.add_done_callback(self.watching.discard)
        return task

    def _ahead(self, kernel_name: str) -> None:
        upcoming = self.plans.pop(0)
        self.spares.append((kernel_name, upcoming, self._launch(kernel_name, upcoming)))

    def _fill(self, kernel_name: str) -> None:
        if self.plans and not self.starting and len(self.spares) < AHEAD:
            self._ahead(kernel_name)

    async def take(self, kernel_name: str, plan: _Plan) -> Any:
        """A started kernel for the notebook of ``plan``; the next ones are started ahead.

        Only a kernel started for this very plan (folder and imports) is used; otherwise the
        notebook's own kernel is started now, warmed with its imports."""
        if self.spares and self.spares[0][:2] == (kernel_name, plan):
            started = self.spares.pop(0)[2]
        else:  # the kernels started ahead were made for other notebooks than this one
            for spare in self.spares:
                self._discard(spare[2])
            self.spares = []
            if self.plans and self.plans[0] == plan:
                self.plans.pop(0)
            started = self._launch(kernel_name, plan)
        if self.plans and not self.spares:
            self._ahead(kernel_name)
        self._fill(kernel_name)
        return await started

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
        for watcher in list(self.watching):
            watcher.cancel()
        for spare in self.spares:  # the run stopped early: the next notebooks' kernels go too
            self._discard(spare[2])
        self.spares = []
        self.plans = []
        await asyncio.gather(*self.stopping)
        shutil.rmtree(self.folder, ignore_errors=True)


_local = threading.local()


def plan_of(cwd: Path | str, nb: Any) -> _Plan:
    """What a kernel is started for: its notebook's folder and the modules it imports."""
    return (str(Path(cwd).resolve()), imports_of(nb))


@contextmanager
def kernels(notebooks: Sequence[Path | str]) -> Iterator[None]:
    """Within this block, the ``vmk`` engine starts each kernel ahead, while the notebook before
    it runs, has it import that notebook's modules as it starts, and stops a finished kernel
    while the next runs. ``notebooks``: the paths of the notebooks about to run, in order (each
    kernel starts in its notebook's folder). On leaving, every kernel it started is stopped."""
    import nbformat

    def plan(path: Path) -> _Plan:
        try:
            return plan_of(path.parent, nbformat.read(path, as_version=4))
        except (OSError, ValueError):  # papermill will say what is wrong, at the notebook's turn
            return plan_of(path.parent, {})

    outer = getattr(_local, "kernels", None)
    _local.kernels = _Kernels([plan(Path(p)) for p in notebooks])
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
        :func:`kernels`) and warmed with their notebook's imports, the executed notebook written
        once (papermill writes it when the notebook ends), fast kernel shutdown, and reply waits
        that cannot stall (:func:`_patient_client`). Registered with papermill as ``vmk``."""

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
            plan = plan_of(cwd, nb_man.nb)
            if session is not None:
                km = _sync(session.take)(kernel_name, plan)
            else:
                km = _sync(_start)(kernel_name, *plan)
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
    with kernels(paths):
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
