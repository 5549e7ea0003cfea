"""A fault injected over HTTP reaches a notebook kernel; the notebook shows it readably; clean
up still removes everything."""

import json
import urllib.request

import pytest

from helpers import cleanup, demo
from helpers.offline import OfflineSettings


@pytest.mark.notebooks
def test_failed_job_is_shown_as_what_and_what_to_do(tmp_path, reliability):
    books = {p.name: p for p in demo.notebook_paths()}
    left: dict[str, int] = {}

    def after(path, server):
        if path.name == "01_setup.ipynb":
            body = json.dumps({"fail_jobs": 1, "job_message": "Unsupported codec/format."})
            request = urllib.request.Request(
                f"{server.endpoint}/_kit/faults",
                data=body.encode(),
                method="POST",
                headers={"X-Kit-Secret": server.env["VMK_OFFLINE_SECRET"]},
            )
            urllib.request.urlopen(request).read()
        if path.name == "09_clean_up.ipynb":
            left.update(cleanup.inventory(**demo.clients_for(server)))

    settings = OfflineSettings(job_seconds=0, flow_definition_delete_seconds=0)
    paths = [books[n] for n in ("01_setup.ipynb", "02_moderate_video.ipynb", "09_clean_up.ipynb")]
    _, problems, _, _ = demo.execute(
        paths, tmp_path, settings, quiet=True, after_each=after, stop_on_error=False
    )
    assert len(problems) == 1 and "ModerationJobFailed" in problems[0]
    book = json.loads((tmp_path / "02_moderate_video.ipynb").read_text())
    errors = [o for c in book["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert len(errors) == 1
    text = "\n".join(errors[0]["traceback"])
    assert "Unsupported codec/format." in text and "What to do:" in text
    assert len(errors[0]["traceback"]) <= 3, "a kit error is shown without a stack trace"
    assert sum(left.values()) == 0, left  # no loop ran, so no answer is kept either
    reliability["faults injected"] += 1
    reliability["errors surfaced"] += 1
