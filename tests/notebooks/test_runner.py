"""The notebook runner: order, a fresh kernel per notebook, outputs kept on failure."""

from __future__ import annotations

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
    book = json.loads(path.read_text())
    return ["".join(o.get("text", "")) for c in book["cells"] for o in c.get("outputs", [])]


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
