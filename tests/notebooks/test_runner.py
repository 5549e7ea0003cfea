"""The notebook runner: order, a fresh kernel per notebook, outputs kept on failure."""

from __future__ import annotations

import asyncio
import json

import nbformat

from helpers import runner


def notebook(path, *sources):
    book = nbformat.v4.new_notebook()
    book.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3"}}
    book.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(book, path)
    return path


def outputs(path):
    """Each cell's printed text, for the cells that printed (a print may reach the notebook as
    more than one stream piece, when the kernel flushes between its writes)."""
    book = json.loads(path.read_text())
    cells = book["cells"]
    texts = ("".join("".join(o.get("text", "")) for o in c.get("outputs", [])) for c in cells)
    return [text for text in texts if text]


def test_notebooks_run_in_order_each_in_its_own_kernel_in_its_folder(tmp_path):
    log = tmp_path / "log.txt"
    write = f"import os\n_ = open({str(log)!r}, 'a').write(f'{{os.getpid()}} {{os.getcwd()}}\\n')"
    paths = [
        notebook(tmp_path / "a.ipynb", write, "x = 1"),
        notebook(tmp_path / "b.ipynb", write, "print('x' in globals())"),
        notebook(tmp_path / "c.ipynb", write),
    ]
    seen = []
    outcomes = runner.run(paths, tmp_path / "out", after_each=lambda o: seen.append(o) or True)
    assert (
        [o.path.name for o in outcomes]
        == ["a.ipynb", "b.ipynb", "c.ipynb"]
        == [o.path.name for o in seen]
    )
    assert all(o.failure is None and o.target.exists() for o in outcomes)
    lines = log.read_text().splitlines()
    assert len({line.split()[0] for line in lines}) == 3, "one kernel per notebook"
    assert {line.split(maxsplit=1)[1] for line in lines} == {str(tmp_path)}
    assert outputs(tmp_path / "out" / "b.ipynb") == ["False\n"], "no state leaks between kernels"


def test_a_failing_cell_is_reported_and_its_notebook_kept_up_to_the_failure(tmp_path):
    paths = [
        notebook(tmp_path / "a.ipynb", "print('before')", "raise ValueError('no bucket')", "1"),
        notebook(tmp_path / "b.ipynb", "print('never')"),
    ]
    outcomes = runner.run(paths, tmp_path / "out", after_each=lambda o: o.failure is None)
    assert len(outcomes) == 1
    assert outcomes[0].failure == "ValueError: no bucket"
    assert outputs(tmp_path / "out" / "a.ipynb")[0] == "before\n"
    assert not (tmp_path / "out" / "b.ipynb").exists()


def test_after_a_failure_the_next_notebooks_can_still_run(tmp_path):
    paths = [
        notebook(tmp_path / "a.ipynb", "raise RuntimeError('boom')"),
        notebook(tmp_path / "b.ipynb", "print('clean up')"),
    ]
    outcomes = runner.run(paths, tmp_path / "out")
    assert [o.failure for o in outcomes] == ["RuntimeError: boom", None]
    assert outputs(tmp_path / "out" / "b.ipynb") == ["clean up\n"]


def test_it_runs_where_an_event_loop_already_runs(tmp_path):
    """As in a Jupyter kernel, or a test session where Playwright's sync API is active."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    path = notebook(tmp_path / "a.ipynb", "print('ok')")

    async def inside_a_loop():
        asyncio.get_running_loop()  # there is one
        return runner.run([path], tmp_path / "out")

    # a thread of its own, so the test's loop is the only one whatever else runs in this session
    with ThreadPoolExecutor(max_workers=1) as pool:
        (outcome,) = pool.submit(asyncio.run, inside_a_loop()).result()
    assert outcome.failure is None and outputs(outcome.target) == ["ok\n"]


# --- kernels warmed with their notebook's imports as they start -------------------------------


def test_imports_of_takes_top_level_imports_only():
    book = nbformat.v4.new_notebook()
    book.cells = [
        nbformat.v4.new_markdown_cell("import not_code"),
        nbformat.v4.new_code_cell("import json, os.path as p\nfrom helpers import loops, state"),
        nbformat.v4.new_code_cell(
            "from . import local\nfrom x import *\nif True:\n    import nested"
        ),
        nbformat.v4.new_code_cell("try:\n    import optional\nexcept ImportError:\n    pass"),
        nbformat.v4.new_code_cell("%pip install something\nimport in_a_magic_cell"),
        nbformat.v4.new_code_cell("import json"),
    ]
    assert runner.imports_of(book) == (
        "json",
        "os.path",
        "helpers",
        "helpers.loops",
        "helpers.state",
        "x",
    )
    assert runner.warm_arguments(()) == [], "a notebook that imports nothing: nothing to warm"


def test_kernels_have_their_notebooks_imports_loaded_and_no_name_bound(tmp_path):
    (tmp_path / "probe.py").write_text("print('probe imported')\nVALUE = 42\n")
    probe = (
        "import sys\nprint('probe' in sys.modules, 'probe' in globals(), 'name' in globals())",
        "import probe\nprint(probe.VALUE)",
        "if False:\n    import never_imported\nprint('never_imported' in sys.modules)",
    )
    # the first notebook's kernel is started for it; the second's ahead, while the first runs
    paths = [notebook(tmp_path / "a.ipynb", *probe), notebook(tmp_path / "b.ipynb", *probe)]
    outcomes = runner.run(paths, tmp_path / "out")
    assert [o.failure for o in outcomes] == [None, None]
    for name in ("a.ipynb", "b.ipynb"):
        # loaded before the first cell ran, but the notebook's own import binds the name; the
        # module's import-time output went nowhere (it is not the notebook's); cells count from 1
        assert outputs(tmp_path / "out" / name) == ["True False False\n", "42\n", "False\n"]
        book = json.loads((tmp_path / "out" / name).read_text())
        assert [c["execution_count"] for c in book["cells"]] == [1, 2, 3]


def test_what_warming_imported_is_left_out_of_garbage_collection_which_still_runs(tmp_path):
    probe = (
        "import gc\nimport json\n"
        "print(gc.isenabled(), gc.get_freeze_count() > 1000, gc.get_threshold()[0] > 0)",
        # a cycle made by the notebook is still collected
        "class Node:\n    pass\n\nn = Node()\nn.me = n\nimport weakref\nr = weakref.ref(n)\n"
        "del n\ngc.collect()\nprint(r() is None)",
    )
    (outcome,) = runner.run([notebook(tmp_path / "a.ipynb", *probe)], tmp_path / "out")
    assert outcome.failure is None
    assert outputs(tmp_path / "out" / "a.ipynb") == ["True True True\n", "True\n"]


def test_kernels_get_a_short_blas_idle_wait_unless_the_environment_sets_one(tmp_path, monkeypatch):
    probe = "import os\nprint(os.environ.get('OPENBLAS_THREAD_TIMEOUT'), os.environ['VMK_PROBE'])"
    monkeypatch.setenv("VMK_PROBE", "kept")
    monkeypatch.delenv("OPENBLAS_THREAD_TIMEOUT", raising=False)
    runner.run([notebook(tmp_path / "a.ipynb", probe)], tmp_path / "out")
    assert outputs(tmp_path / "out" / "a.ipynb") == ["4 kept\n"]
    monkeypatch.setenv("OPENBLAS_THREAD_TIMEOUT", "20")
    runner.run([notebook(tmp_path / "a.ipynb", probe)], tmp_path / "out")
    assert outputs(tmp_path / "out" / "a.ipynb") == ["20 kept\n"], "the user's own setting wins"


def test_an_import_that_fails_while_warming_is_reported_by_the_notebooks_own_cell(tmp_path):
    (tmp_path / "broken.py").write_text("raise ValueError('broken on import')\n")
    paths = [
        notebook(tmp_path / "a.ipynb", "1"),
        notebook(tmp_path / "b.ipynb", "print('before')", "import broken", "print('after')"),
    ]
    outcomes = runner.run(paths, tmp_path / "out")
    assert outcomes[1].failure == "ValueError: broken on import"
    assert outputs(tmp_path / "out" / "b.ipynb")[0] == "before\n"


# --- waiting for a kernel's reply --------------------------------------------------------------


class _SilentSocket:
    """A shell socket whose wake-ups were lost: ``poll`` sees the reply only on its ``ready``-th
    call (a real one would, once asked again after a lost wake-up); every timeout is kept."""

    def __init__(self, ready):
        self.ready, self.timeouts = ready, []

    async def poll(self, timeout_ms):
        self.timeouts.append(timeout_ms)
        if len(self.timeouts) >= self.ready:
            return 1
        if timeout_ms:
            await asyncio.sleep(timeout_ms / 1000)
        return 0


def _run(coro):
    """``asyncio.run`` in a thread of its own: the test session may have a loop running here
    (Playwright's sync API)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _patient_channel(socket):
    channel_class = runner._patient_client().shell_channel_class.default_value
    channel = channel_class.__new__(channel_class)  # its constructor wants a real ZeroMQ socket
    channel.socket = socket

    async def recv():
        return {"msg_type": "execute_reply"}

    channel._recv = recv
    return channel


def test_the_engines_reply_wait_asks_the_socket_again_in_short_steps():
    """nbclient sends on the shell socket while it waits there (jupyter/nbclient#312); a lost
    wake-up must cost a step, not the cell's whole timeout."""
    socket = _SilentSocket(ready=3)
    reply = _run(_patient_channel(socket).get_msg(timeout=900))
    assert reply == {"msg_type": "execute_reply"}
    assert len(socket.timeouts) == 3
    assert all(0 <= t <= runner.REPLY_LOOK_S * 1000 for t in socket.timeouts)
    # no timeout: the wait goes on in steps until the reply is there
    socket = _SilentSocket(ready=2)
    assert _run(_patient_channel(socket).get_msg(timeout=None))["msg_type"]
    assert socket.timeouts == [runner.REPLY_LOOK_S * 1000] * 2


def test_the_engines_reply_wait_still_ends_at_its_timeout():
    from queue import Empty

    socket = _SilentSocket(ready=10**6)
    try:
        _run(_patient_channel(socket).get_msg(timeout=0.3))
    except Empty:
        pass
    else:
        raise AssertionError("a reply that never comes must end the wait with Empty")
    assert 2 <= len(socket.timeouts) <= 4, socket.timeouts


def test_engine_kernels_are_given_the_patient_client(tmp_path):
    async def start_and_stop():
        km = await runner._start("python3", str(tmp_path))
        try:
            return type(km.client()).shell_channel_class.default_value
        finally:
            await runner._stop(km)

    channel_class = _run(start_and_stop())
    assert channel_class is runner._patient_client().shell_channel_class.default_value


def test_a_notebook_syncing_an_output_widget_runs_to_the_end(tmp_path):
    """The notebook 08 pattern: an ``ipywidgets.Output`` cleared and written by many cells, so
    nbclient sends the widget's state to the kernel while it waits for replies."""
    cells = ["import ipywidgets as w\nfrom IPython.display import display\nout = w.Output()"]
    cells += [
        f"out.clear_output(wait=True)\nwith out:\n    display({i})\nprint({i})" for i in range(30)
    ]
    (outcome,) = runner.run([notebook(tmp_path / "w.ipynb", *cells)], tmp_path / "out")
    assert outcome.failure is None
    assert outputs(tmp_path / "out" / "w.ipynb") == [f"{i}\n" for i in range(30)]


def test_a_notebook_that_cannot_be_read_fails_at_its_turn_not_before(tmp_path):
    (tmp_path / "broken.ipynb").write_text("{ not json")
    paths = [notebook(tmp_path / "a.ipynb", "print('ran')"), tmp_path / "broken.ipynb"]
    seen = []
    try:
        runner.run(paths, tmp_path / "out", after_each=lambda o: seen.append(o) or True)
    except Exception as err:  # papermill's own error for the unreadable notebook
        assert "broken" in str(err) or "JSON" in str(err) or "json" in str(err), err
    else:
        raise AssertionError("an unreadable notebook must not pass")
    assert [o.path.name for o in seen] == ["a.ipynb"], "the notebook before it still ran"
