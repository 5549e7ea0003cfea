"""Synthetic recordings: long videos with realistic bursts, paged through the real API."""

import json
from itertools import pairwise

import boto3

from helpers import mp4, taxonomy
from helpers.offline import OfflineSettings, mocked, synthetic


def test_rows_look_like_rekognition():
    rows = synthetic.rows(3_600_000, seed=3)
    assert rows == synthetic.rows(3_600_000, seed=3)  # deterministic
    assert len(rows) > 5_000
    times = [r["Timestamp"] for r in rows]
    assert times == sorted(times) and times[-1] < 3_600_000
    by_moment: dict[int, set[str]] = {}
    for r in rows:
        label = r["ModerationLabel"]
        assert taxonomy.parent(label["Name"], label["TaxonomyLevel"]) == label["ParentName"]
        assert 40 <= label["Confidence"] < 100
        by_moment.setdefault(r["Timestamp"], set()).add(label["Name"])
    for r in rows:  # every child has its parent at the same moment
        label = r["ModerationLabel"]
        if label["ParentName"]:
            assert label["ParentName"] in by_moment[r["Timestamp"]]
    gaps = {b - a for a, b in pairwise(times) if 0 < b - a < 1000}
    assert len(gaps) > 10  # irregular, sub-second sampling


def test_six_hour_video_pages_through_100_pages(tmp_path):
    six_hours = 6 * 3600 * 1000
    spec = {
        "video": {"file": "feature-6h.mp4"},
        "ModerationModelVersion": "7.0",
        "VideoMetadata": {"DurationMillis": six_hours},
        "synthetic": {"seed": 7},
    }
    (tmp_path / "feature-6h.json").write_text(json.dumps(spec))
    settings = OfflineSettings(job_seconds=0, recordings_dir=tmp_path)
    with mocked(settings):
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="films")
        s3.put_object(Bucket="films", Key="in/feature-6h.mp4", Body=mp4.header_only(six_hours))
        rek = boto3.client("rekognition")
        job = rek.start_content_moderation(
            Video={"S3Object": {"Bucket": "films", "Name": "in/feature-6h.mp4"}}, MinConfidence=0
        )["JobId"]
        pages, total, token = 0, 0, None
        while True:
            args = {"JobId": job, "MaxResults": 1000, **({"NextToken": token} if token else {})}
            page = rek.get_content_moderation(**args)
            pages += 1
            total += len(page["ModerationLabels"])
            token = page.get("NextToken")
            if not token:
                break
        assert page["VideoMetadata"]["DurationMillis"] == six_hours
        assert pages > 100
        assert total == len(synthetic.rows(six_hours, seed=7))
