"""The results store: every reviewed run's verdicts, kept locally, one file per run.

Layout: ``results/<run id>/verdicts.parquet`` (the verdicts frame of
:func:`verdicts_from_output`, one row per item and worker). Clean up's export
(:func:`helpers.cleanup.export_results`) writes it beside the raw A2I output it exports
(``raw/<loop>.json``, ``verdicts.csv``, ``problems.csv``): one results folder per run.
:func:`load_results` reads every run in the store, so learning uses all reviewed runs, not only
the last. A run folder without ``verdicts.parquet`` but with raw A2I output (``raw/*.json`` or
``output.json`` files) is read from those instead; :func:`read_s3_outputs` reads the same
documents straight from A2I's output in S3, for runs that were not exported (notebook 08 reads
the current run that way before clean up exports it).

Where the store is (:func:`default_root`): ``$VMK_RESULTS_DIR`` when set (``make demo`` and the
notebook tests set it to their own temporary folder), else ``results/`` at the root of the
kit's checkout (the folder holding ``notebooks/`` and ``helpers/``), whichever folder a
notebook's kernel runs in; for a kit installed elsewhere than a checkout, ``results/`` in the
working directory.

Why Parquet, and why fastparquet: the verdicts are a table that grows run by run and is read
by column (category, confidence, verdict), which is what a columnar file is for; Parquet is the
columnar format every data tool reads (pandas with pyarrow, DuckDB, Spark), typed (booleans stay
booleans, times stay times) and compressed. Writing it takes an engine: pyarrow 26 unpacks to
166 MB (a 55 MB wheel), 40 % of the demo's 400 MB budget for one small table, while fastparquet
with cramjam and fsspec takes about 16 MB installed and writes the same standard files. pandas 3
deprecates its own ``engine="fastparquet"`` path, so the store calls fastparquet's API directly
(``write`` and ``ParquetFile``), which does not depend on that path. Times are stored as UTC
without a zone (fastparquet's tz-aware path warns under pandas 3.1) and given back in UTC.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from helpers import answers
from helpers.errors import InputError, KitError
from helpers.review import answers_frame

#: The kit's checkout (an editable install, as ``make venv`` and notebook 01 make it).
CHECKOUT = Path(__file__).resolve().parent.parent
#: The store's default root (``VMK_RESULTS_DIR`` overrides): ``results/`` in the kit's checkout.
DEFAULT_ROOT = CHECKOUT / "results"
#: The environment variable naming the store's root.
ROOT_VARIABLE = "VMK_RESULTS_DIR"
FILE_NAME = "verdicts.parquet"
#: Item fields copied from the loop input into every verdict row.
ITEM_FIELDS = ("id", "label", "parent", "category", "start_ms", "end_ms", "confidence")
#: Columns of :func:`verdicts_from_output`.
COLUMNS = [
    "run",
    "loop",
    *ITEM_FIELDS,
    "audit",
    "weight",
    "worker",
    "verdict",
    "corrected_category",
    "note",
    "escalate",
    "bulk",
    "accepted",
    "submitted",
    "seconds_spent",
]
TIMES = ("accepted", "submitted")
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass
class Loaded:
    """Verdicts read from many documents, and the ones that could not be read (never hidden)."""

    verdicts: pd.DataFrame
    problems: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["source", "problem"])
    )

    def __repr__(self) -> str:
        runs = self.verdicts["run"].nunique() if len(self.verdicts) else 0
        problems = len(self.problems)
        return f"<Loaded {len(self.verdicts)} verdicts from {runs} run(s), {problems} problem(s)>"


def _weights(doc: dict[str, Any]) -> dict[str, float]:
    """Per category: how many unflagged items one audit item stands for (population / sampled)."""
    audit = doc.get("audit") if isinstance(doc.get("audit"), dict) else {}
    totals: dict[str, list[float]] = {}
    for s in audit.get("strata") or []:
        if isinstance(s, dict) and s.get("sampled"):
            pair = totals.setdefault(str(s.get("category")), [0.0, 0.0])
            pair[0] += float(s["population"])
            pair[1] += float(s["sampled"])
    return {category: pop / sampled for category, (pop, sampled) in totals.items()}


def verdicts_from_output(output: dict[str, Any], run: str = "") -> pd.DataFrame:
    """The verdicts frame of one A2I ``output.json``: the loop input's items with the answers.

    Needs only the output document (its ``inputContent`` carries the items), so it works the
    same on an exported file, an S3 object or a stand-in's answer. An audit item (``"audit":
    true`` in the input, see :func:`helpers.learn.mark_audit`) gets ``audit`` True and the
    weight of its stratum. Raises :class:`InputError` (from :func:`helpers.review.answers_frame`)
    for an answer that does not follow the schema.
    """
    doc = output.get("inputContent")
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise InputError(
            f"Human loop `{output.get('humanLoopName', '?')}`'s output has no input items",
            f"this reader needs the kit's loop input ({answers.INPUT_SCHEMA}) in inputContent",
        )
    weights = _weights(doc)
    items = pd.DataFrame(
        [
            {k: i.get(k) for k in ITEM_FIELDS} | {"audit": i.get("audit") is True}
            for i in doc["items"]
            if isinstance(i, dict)
        ],
        columns=[*ITEM_FIELDS, "audit"],
    )
    items["weight"] = [
        weights.get(str(c), 1.0) if a else 1.0
        for c, a in zip(items["category"], items["audit"], strict=True)
    ]
    frame = items.merge(answers_frame(output), on="id", how="left")
    frame["run"] = run
    frame["loop"] = str(output.get("humanLoopName", ""))
    return frame[COLUMNS]


def read_outputs(documents: Iterable[tuple[str, str, Any]]) -> Loaded:
    """Verdicts from ``(run, source, document or JSON text)`` triples; bad ones are listed."""
    frames, problems = [], []
    for run, source, doc in documents:
        try:
            if isinstance(doc, (str, bytes)):
                doc = json.loads(doc)
            if not isinstance(doc, dict):
                raise InputError(f"`{source}` is not a JSON object", "check the file")
            frames.append(verdicts_from_output(doc, run))
        except (ValueError, KitError) as err:
            problems.append({"source": source, "problem": str(err)})
    verdicts = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    return Loaded(verdicts, pd.DataFrame(problems, columns=["source", "problem"]))


def _fastparquet() -> Any:
    """fastparquet, imported quietly (it warns about a pandas option when it loads)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import fastparquet

    return fastparquet


# imported with this module, not on the first read or write: its importers (notebook 08, clean
# up's export) all read or write the store, and a kernel the kit's runner starts ahead then has
# it loaded by its notebook's turn (a sixth of a second)
_fastparquet()


def check_run_id(run_id: str) -> str:
    """A run id usable as a folder name, or :class:`InputError`."""
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
        raise InputError(
            f"Run id {run_id!r} cannot name a results folder",
            "use letters, digits, '.', '_' and '-' (the kit's run ids are like that)",
        )
    return run_id


def default_root(root: str | Path | None = None) -> Path:
    """``root``, else ``$VMK_RESULTS_DIR``, else ``results/`` at the root of the kit's checkout.

    Not relative to the kernel's working directory, so notebooks (run in ``notebooks/``) and
    scripts (run anywhere) share one store. A kit installed outside a checkout uses
    ``results`` in the working directory.
    """
    if root:
        return Path(root)
    if os.environ.get(ROOT_VARIABLE):
        return Path(os.environ[ROOT_VARIABLE])
    if (CHECKOUT / "notebooks").is_dir() and (CHECKOUT / "helpers").is_dir():
        return DEFAULT_ROOT
    return Path("results")


def save_run(verdicts: pd.DataFrame, run_id: str, root: str | Path | None = None) -> Path:
    """Write one run's verdicts to ``<root>/<run id>/verdicts.parquet`` (atomically)."""
    folder = default_root(root) / check_run_id(run_id)
    folder.mkdir(parents=True, exist_ok=True)
    frame = verdicts.copy()
    frame["run"] = run_id
    for name in TIMES:
        if name in frame:
            frame[name] = pd.to_datetime(frame[name], utc=True).dt.tz_convert(None)
    for name in frame.columns:
        if frame[name].dtype == "object" and name not in TIMES:
            frame[name] = frame[name].map(_text)
    path = folder / FILE_NAME
    tmp = folder / f".{FILE_NAME}.tmp"
    _fastparquet().write(str(tmp), frame.reset_index(drop=True), compression="ZSTD")
    tmp.replace(path)
    return path


def _text(value: Any) -> Any:
    return value if value is None or isinstance(value, str) else str(value)


def read_run_file(path: str | Path) -> pd.DataFrame:
    """One run's ``verdicts.parquet``, times in UTC."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        frame: pd.DataFrame = _fastparquet().ParquetFile(str(path)).to_pandas()
    for name in TIMES:
        if name in frame:
            frame[name] = pd.to_datetime(frame[name]).dt.tz_localize("UTC")
    return frame


def load_results(root: str | Path | None = None) -> Loaded:
    """Every run in the store: ``verdicts.parquet``, or else the run's exported A2I output
    (``raw/*.json`` as clean up exports it, or ``output.json`` files as A2I names them)."""
    root = default_root(root)
    frames, problems = [], []
    for folder in sorted(p for p in root.glob("*") if p.is_dir()) if root.is_dir() else []:
        stored = folder / FILE_NAME
        if stored.is_file():
            try:
                frames.append(read_run_file(stored).assign(run=folder.name))
            except Exception as err:  # any unreadable file is listed, never hides the others
                problems.append({"source": str(stored), "problem": f"unreadable: {err}"})
            continue
        files = sorted({*folder.rglob("output.json"), *folder.glob("raw/*.json")})
        loaded = read_outputs((folder.name, str(f), f.read_text(encoding="utf-8")) for f in files)
        if len(loaded.verdicts):
            frames.append(loaded.verdicts)
        problems.extend(loaded.problems.to_dict("records"))
    verdicts = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    return Loaded(verdicts, pd.DataFrame(problems, columns=["source", "problem"]))


def read_s3_outputs(s3: Any, bucket: str, prefix: str, run: str = "") -> Loaded:
    """Verdicts from every ``output.json`` under ``s3://bucket/prefix`` (A2I's output layout:
    ``<prefix>/<flow definition>/YYYY/MM/DD/hh/mm/ss/<loop>/output.json``), paged."""
    from botocore.exceptions import ClientError

    keys = []
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            contents = page.get("Contents", [])
            keys.extend(o["Key"] for o in contents if o["Key"].endswith("output.json"))
    except ClientError as err:
        problem = f"cannot list it ({err.response['Error']['Code']}): check the bucket and role"
        source = pd.DataFrame([{"source": f"s3://{bucket}/{prefix}", "problem": problem}])
        return Loaded(pd.DataFrame(columns=COLUMNS), source)

    def documents() -> Iterable[tuple[str, str, Any]]:
        for key in sorted(keys):
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            yield run, f"s3://{bucket}/{key}", body

    return read_outputs(documents())


#: Reviews of the sample media (``datasets/make_sample_reviews.py``), for learning before any
#: run of your own has been reviewed.
SAMPLE_REVIEWS = Path(__file__).resolve().parent.parent / "datasets" / "sample_reviews.json"


def load_sample_reviews(path: str | Path = SAMPLE_REVIEWS) -> Loaded:
    """The sample reviews: two runs of the sample media, reviewed by two simulated reviewers."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return read_outputs(
        (run, f"{Path(path).name}:{run}:{doc.get('humanLoopName', '?')}", doc)
        for run, docs in data["runs"].items()
        for doc in docs
    )


def run_prefix(run_id: str) -> str:
    """The S3 prefix a run keeps its objects under (:attr:`helpers.session.KitSession.prefix`)."""
    return f"video-moderation-kit/{run_id}/"
