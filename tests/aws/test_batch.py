"""Many videos under a concurrency cap, against the stand-in's quota of concurrent jobs."""

from pathlib import Path

import pytest
from botocore.config import Config

from helpers import batch, mp4
from helpers.offline import OfflineSettings, mocked
from helpers.session import connect

SAMPLE = Path(__file__).resolve().parents[2] / "datasets" / "media" / "moderation-sample.mp4"


@pytest.fixture
def aws(tmp_path, monkeypatch):
    monkeypatch.setenv("VMK_STATE_FILE", str(tmp_path / "run.json"))
    with mocked(OfflineSettings(job_seconds=30, max_concurrent_jobs=3)) as stand_in:
        yield stand_in


def _upload_copies(session, count):
    for i in range(count):
        session.s3.upload_file(str(SAMPLE), session.bucket, f"many/clip-{i:02d}.mp4")
    session.s3.put_object(Bucket=session.bucket, Key="many/broken.mp4", Body=b"not a video")
    session.s3.put_object(Bucket=session.bucket, Key="many/notes.txt", Body=b"skip me")


def test_many_videos_respect_the_quota_and_land_in_one_frame(aws):
    session = connect(run_id="many01")
    _upload_copies(session, 7)
    videos = batch.videos_under_prefix(session.s3, session.bucket, "many/")
    assert len(videos) == 8
    # The cap is above the account's quota of 3: LimitExceeded is absorbed by queueing.
    # Waiting advances the stand-in's clock instead of sleeping: each job takes 30 s.
    # botocore retries LimitExceededException itself (with real sleeps); without its retries
    # the kit's own queue has to absorb every refusal.
    no_retries = session.boto_session.client(
        "rekognition", config=Config(retries={"mode": "standard", "max_attempts": 1})
    )
    result = batch.moderate_many(no_retries, videos, max_concurrent=5, sleep=aws.advance)
    jobs = result.jobs.set_index("video")
    assert jobs.loc["broken.mp4", "status"] == "FAILED"
    assert jobs.loc["broken.mp4", "message"]
    assert (jobs.drop("broken.mp4")["status"] == "SUCCEEDED").all()
    assert result.calls["limit_exceeded"] > 0
    per_video = result.labels.groupby("video").size()
    assert len(per_video) == 7 and per_video.nunique() == 1  # same video, same labels


def test_cap_below_quota_never_hits_the_limit(aws):
    session = connect(run_id="many02")
    _upload_copies(session, 4)
    videos = [v for v in batch.videos_under_prefix(session.s3, session.bucket, "many/")]
    result = batch.moderate_many(session.rekognition, videos, max_concurrent=2, sleep=aws.advance)
    assert result.calls["limit_exceeded"] == 0
    assert set(result.labels["video"]) == {f"clip-{i:02d}.mp4" for i in range(4)}


def test_folder_upload_checks_each_video(aws, tmp_path):
    session = connect(run_id="many03")
    folder = tmp_path / "videos"
    folder.mkdir()
    (folder / "a.mp4").write_bytes(SAMPLE.read_bytes())
    (folder / "b.mp4").write_bytes(mp4.header_only(30_000))
    videos = batch.videos_in_folder(session, folder)
    assert [v.name for v in videos] == ["a.mp4", "b.mp4"]
    result = batch.moderate_many(session.rekognition, videos, sleep=aws.advance)
    assert set(result.jobs["status"]) == {"SUCCEEDED"}


def test_one_review_per_video_through_the_lab_steps(aws, tmp_path, monkeypatch):
    import lab_steps as steps

    from helpers import state
    from helpers.rules import RuleSet

    monkeypatch.setattr("helpers.waiting.time.sleep", aws.advance)
    aws.settings.answer_after_describes = 1
    aws.settings.job_seconds = 0
    session = connect(run_id="many04")
    state.record("session", {"run_id": session.run_id})
    folder = tmp_path / "videos"
    folder.mkdir()
    for name in ("one.mp4", "two.mp4"):
        (folder / name).write_bytes(SAMPLE.read_bytes())
    videos, result = steps.moderate_folder(session, folder, max_concurrent=2)
    assert set(result.labels["video"]) == {"one.mp4", "two.mp4"}
    steps.choose_workteam(session)
    steps.create_task_ui(session)
    steps.create_flow_definition(session)
    loops = steps.review_many(session, videos, result, RuleSet.load("lab-v7"), folder)
    assert sorted(loops["video"].unique()) == ["one.mp4", "two.mp4"]
    steps.wait_for_review(session)
    verdicts = steps.verdicts(steps.read_outputs(session))
    assert verdicts["verdict"].notna().all()
    assert len(verdicts) == loops["items"].sum()
    steps.clean_up(session)
    assert steps.leftovers(session).empty
