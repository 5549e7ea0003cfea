"""The stand-in stops while the kit waits: a ServiceUnreachable with a next step, no traceback."""

from pathlib import Path

import pytest
from botocore.config import Config

from helpers import errors, loops, media, moderation, offline, session, state, waiting
from helpers.errors import ServiceUnreachable

SAMPLE = Path(__file__).resolve().parents[2] / "datasets" / "media" / "moderation-sample.mp4"
#: One attempt, so the test does not sit through botocore's eight retries of a refused port.
ONE_TRY = Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=2)


def test_waiting_when_the_stand_in_is_gone(use_stand_in, monkeypatch, tmp_path, reliability):
    monkeypatch.setenv("VMK_STATE_FILE", str(tmp_path / "run.json"))
    monkeypatch.setattr(session, "RETRY_CONFIG", ONE_TRY)
    monkeypatch.setattr("helpers.waiting.time.sleep", lambda s: None)
    server = offline.start_server(offline.OfflineSettings(job_seconds=600), port=0)
    try:
        use_stand_in(server)
        s = session.connect(run_id="gone1")
        video = media.upload_video(s, SAMPLE)
        job = moderation.start_moderation(s.rekognition, video["bucket"], video["key"])
        state.record("moderation", {"job_id": job})
    finally:
        server.stop()
    with (
        pytest.raises(ServiceUnreachable) as err,
        errors.explained(f"waiting for moderation job `{job}`"),
    ):
        moderation.wait_for_moderation(s.rekognition, job, timeout=30)
    assert "stand-in did not answer during the wait for moderation job" in err.value.what
    assert "start the stand-in again" in err.value.fix
    assert state.require("moderation") == {"job_id": job}, "what was recorded is kept"
    reliability["connection losses named"] += 1

    # the notebooks' own waiting cells, with nothing around them (02: until_done; 04, 06: wait)
    with pytest.raises(ServiceUnreachable, match="during the wait for moderation job") as err:
        waiting.until_done(s.rekognition, job, timeout=30)
    assert "start the stand-in again" in err.value.fix
    with pytest.raises(ServiceUnreachable, match="during the wait for human loop vmk-loop-x"):
        loops.wait(s.a2i, ["vmk-loop-x"], timeout=30)
    reliability["connection losses named"] += 2
