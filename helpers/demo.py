"""Run the whole lab offline: ``python -m helpers.demo`` (what ``make demo`` does).

Starts the offline stand-in for AWS, points every notebook kernel at it through the
environment, executes the notebooks in order through papermill (:mod:`helpers.runner`: a fresh
Jupyter kernel each) into ``executed/``, checks that no cell wrote an error, and prints a short
summary. Parameters go in as with papermill's command line, ``-p name value``, each to the
notebooks whose ``parameters`` cell declares it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
#: What ``make demo`` and the tests give the notebooks that declare it: the exercises solved, and
#: an audit sample of a fifth of the unflagged items in notebook 04's review (notebook 08 then
#: estimates what the rules let through from its verdicts).
DEMO_PARAMETERS: dict[str, Any] = {"solve_exercises": True, "audit_fraction": 0.2}


def parameter_value(text: str) -> Any:
    """A ``-p`` value read as papermill's command line reads it: True, False and None, then an
    int, then a float, else the text itself."""
    if text in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[text]
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def unknown_parameters(paths: list[Path], parameters: dict[str, Any]) -> list[str]:
    """Lines naming each parameter that no notebook of ``paths`` declares, if there is one."""
    from helpers import runner

    known = {path.name: runner.declared(path) for path in paths}
    everything = set().union(*known.values()) if known else set()
    return [
        f"Parameter `{name}` is declared by no notebook's parameters cell. "
        f"Parameters the notebooks declare: {', '.join(sorted(everything)) or 'none'}."
        for name in parameters
        if name not in everything
    ]


def notebook_paths(folder: Path = NOTEBOOKS) -> list[Path]:
    """The lab's notebooks, in running order: their names sort that way (01 … 06, 08 learn from
    the reviews, 09 clean up), as nbval collects them too."""
    return sorted(folder.glob("[0-9][0-9]_*.ipynb"))


def error_outputs(path: Path) -> list[str]:
    """Error outputs and stderr text found in an executed notebook, one line each."""
    book = json.loads(path.read_text())
    found = []
    for index, cell in enumerate(book["cells"]):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append(f"{path.name} cell {index}: {out.get('ename')}: {out.get('evalue')}")
            elif out.get("output_type") == "stream" and out.get("name") == "stderr":
                text = "".join(out.get("text", "")).strip()
                if text:
                    found.append(f"{path.name} cell {index} wrote to stderr: {text[:200]}")
    return found


def summary(state: dict[str, Any]) -> list[str]:
    """The demo's closing lines, from the run's state file."""
    from helpers.tuner import reduction_line

    moderation = state.get("moderation", {})
    rules = state.get("rules", {})
    first = state.get("review", {})
    many = state.get("many_review", {})
    verdicts = state.get("results", {})
    exported = state.get("exported", {})
    learned = state.get("learning", {})

    def read_back(loops: list[str]) -> int:
        return sum(int(verdicts.get(name, 0)) for name in loops)

    counts = (rules.get("detections", moderation.get("labels")), rules.get("flagged"))
    reduction = (
        reduction_line(counts[0], counts[1], rules["items"])
        if None not in counts and "items" in rules
        else "?"
    )
    lines = [
        f"run id:              {state.get('session', {}).get('run_id', '?')}",
        f"labels found:        {moderation.get('labels', '?')} detections "
        f"on {moderation.get('pages', '?')} page(s)",
        f"flagged by rules:    {rules.get('flagged', '?')} detections ({rules.get('name', '?')})",
        f"sent for review:     {first.get('items', '?')} items"
        + (f" and {first['audit_items']} audit items" if first.get("audit_items") else "")
        + f" in {len(first.get('loops', []))} human loop(s)",
        f"reduction:           {reduction}",
        f"verdicts read back:  {read_back(first.get('loops', []))}",
        f"many videos:         {many.get('videos', '?')} videos, {many.get('items', '?')} items "
        f"in {len(many.get('loops', []))} loop(s), "
        f"{read_back(many.get('loops', []))} verdicts read back",
        f"learned from:        {learned.get('verdicts', '?')} verdicts of "
        f"{learned.get('runs', '?')} run(s) ({learned.get('audit_items', '?')} audit items); "
        f"suggested rules in {learned.get('rules_file', '?')}",
        f"verdicts exported:   {exported.get('files', '?')} file(s) to "
        f"{exported.get('folder', '?')} (A2I's answers kept in S3)",
        f"cleaned up:          {state.get('cleanup', {}).get('deleted', '?')} resources deleted",
    ]
    return lines


def kernel_environment(server_env: dict[str, str], work_dir: Path) -> dict[str, str]:
    """The environment that points boto3 (in any process) at the stand-in and nowhere else.

    Empty AWS config and credentials files keep a developer's own profiles out; the run's state
    file and the results store (``VMK_RESULTS_DIR``: what clean up exports and notebook 08
    learns from) go to ``work_dir``, so demo and test runs never write into the repository.
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    for name in ("aws-config", "aws-credentials"):
        (work_dir / name).touch()
    return {
        **server_env,
        "AWS_CONFIG_FILE": str(work_dir / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(work_dir / "aws-credentials"),
        "VMK_STATE_FILE": str(work_dir / "run.json"),
        "VMK_RESULTS_DIR": str(work_dir / "results"),
    }


def point_at(env: dict[str, str]) -> None:
    """Apply :func:`kernel_environment`'s result to this process (and the kernels it starts)."""
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(key, None)
    os.environ.update(env)


def execute(
    paths: list[Path],
    out_dir: Path,
    settings: Any,
    *,
    quiet: bool = False,
    after_each: Any = None,
    stop_on_error: bool = True,
    parameters: dict[str, Any] | None = None,
    engine: str | None = "vmk",
) -> tuple[float, list[str], dict[str, Any], dict[str, float]]:
    """Run ``paths`` in order through papermill against a fresh stand-in with ``settings`` (an
    OfflineSettings). Each notebook gets those of ``parameters`` (by default
    :data:`DEMO_PARAMETERS`) that its ``parameters`` cell declares. ``engine``: papermill's engine
    (the kit's ``vmk``; None for papermill's default).

    Returns (seconds, problems, the run's state, seconds per notebook). Stops at the first
    notebook that raises; error outputs and stderr text of the others count as problems too.
    ``after_each(path, server)`` is called after every notebook (tests inspect the stand-in);
    with ``stop_on_error=False`` the next notebooks still run after one raised (clean up).
    """
    from helpers import offline, runner

    server = offline.start_server(settings, port=0)
    env = kernel_environment(server.env, Path(tempfile.mkdtemp(prefix="vmk-demo-")))
    state_file = Path(env["VMK_STATE_FILE"])
    saved = dict(os.environ)
    point_at(env)
    if not quiet:
        print(f"Offline stand-in for AWS at {server.endpoint}")
    problems: list[str] = []
    timings: dict[str, float] = {}

    def ended(outcome: runner.Outcome) -> bool:
        timings[outcome.path.name] = outcome.seconds
        if outcome.failure:
            problems.append(f"{outcome.path.name}: {outcome.failure}")
        else:
            problems.extend(error_outputs(outcome.target))
        if after_each is not None:
            after_each(outcome.path, server)
        if not quiet:
            print(f"  ran {outcome.path.name} in {outcome.seconds:.1f} s", flush=True)
        return not (outcome.failure and stop_on_error)

    try:
        server.warm_up()
        runner.prepare()
        started = time.monotonic()
        given = DEMO_PARAMETERS if parameters is None else parameters
        runner.run(paths, out_dir, parameters=given, after_each=ended, engine=engine)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        server.stop()
    elapsed = time.monotonic() - started
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    return elapsed, problems, state, timings


def run(
    out_dir: Path, job_seconds: float, auto_review: str, parameters: dict[str, Any] | None = None
) -> int:
    """Execute every notebook against a fresh stand-in; return a process exit code.

    ``parameters`` are added to :data:`DEMO_PARAMETERS`; one that no notebook declares is refused
    before anything runs.
    """
    from helpers import offline

    given = {**DEMO_PARAMETERS, **(parameters or {})}
    paths = notebook_paths()
    refused = unknown_parameters(paths, parameters or {})
    if refused:
        print("The demo did not start:")
        for line in refused:
            print(f"  - {line}")
        return 2
    settings = offline.OfflineSettings(job_seconds=job_seconds, auto_review=auto_review)
    elapsed, problems, state, _ = execute(paths, out_dir, settings, parameters=given)
    print()
    if problems:
        print("The demo FAILED:")
        for line in problems:
            print(f"  - {line}")
        print(f"Executed notebooks are in {out_dir}/ for a closer look.")
        return 1
    print(f"The whole lab ran offline in {elapsed:.0f} s. Executed notebooks: {out_dir}/")
    for line in summary(state):
        print(f"  {line}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _arguments(parser)
    args = parser.parse_args(argv)
    return run(args.out, args.job_seconds, args.auto_review, given_parameters(args))


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=ROOT / "executed")
    parser.add_argument("--job-seconds", type=float, default=3.0)
    parser.add_argument(
        "--auto-review",
        default="truth",
        help="how the stand-in's reviewer answers: truth (the default: from what the sample media "
        "show, so notebook 08 learns real numbers), mixed, confirm, reject or off",
    )
    parser.add_argument(
        "-p",
        "--parameters",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a parameter for the notebooks that declare it, read as papermill's -p reads it",
    )
    parser.add_argument(
        "-r",
        "--parameters_raw",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a parameter passed as text, unparsed (papermill's -r)",
    )


def given_parameters(args: argparse.Namespace) -> dict[str, Any]:
    """The ``-p`` (parsed) and ``-r`` (as text) pairs of the command line; ``-r`` wins a tie."""
    parameters = {name: parameter_value(value) for name, value in args.parameters}
    parameters.update(dict(args.parameters_raw))
    return parameters


if __name__ == "__main__":
    sys.exit(main())


def clients_for(server: Any) -> dict[str, Any]:
    """boto3 clients for a running stand-in server, by short name (tests inspect it with them)."""
    names = {"sagemaker": "sagemaker", "a2i": "sagemaker-a2i-runtime", "s3": "s3", "sns": "sns"}
    names["sqs"] = "sqs"
    return {short: server.client(service) for short, service in names.items()}
