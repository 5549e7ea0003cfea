"""Rekognition StartContentModeration / GetContentModeration through plain boto3 clients."""

from __future__ import annotations

import json
import logging
import re

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import BUCKET, FIXTURE_FILE, sample_rows

ABOVE_50 = [r for r in sample_rows() if r["ModerationLabel"]["Confidence"] >= 50]


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def all_pages(rekognition, job_id, **kwargs):
    pages, token = [], None
    while True:
        extra = {"NextToken": token} if token else {}
        page = rekognition.get_content_moderation(JobId=job_id, **kwargs, **extra)
        pages.append(page)
        token = page.get("NextToken")
        if not token:
            return pages


def test_job_lifecycle_follows_the_stand_in_clock(aws, video):
    aws.settings.job_seconds = 30
    rekognition = aws.client("rekognition")
    job_id = rekognition.start_content_moderation(Video=video, JobTag="lab-run")["JobId"]
    running = rekognition.get_content_moderation(JobId=job_id)
    assert running["JobStatus"] == "IN_PROGRESS"
    assert running["ModerationLabels"] == []
    assert "VideoMetadata" not in running
    aws.advance(31)
    done = rekognition.get_content_moderation(JobId=job_id)
    assert done["JobStatus"] == "SUCCEEDED"
    assert done["JobId"] == job_id
    assert done["JobTag"] == "lab-run"
    assert done["Video"] == video
    assert done["ModerationModelVersion"] == "7.0"
    assert done["VideoMetadata"]["FrameWidth"] == 640
    assert done["GetRequestMetadata"] == {"SortBy": "TIMESTAMP", "AggregateBy": "TIMESTAMPS"}
    assert "NextToken" not in done


def test_default_min_confidence_is_50(aws, video):
    rekognition = aws.client("rekognition")
    job_id = rekognition.start_content_moderation(Video=video)["JobId"]
    labels = rekognition.get_content_moderation(JobId=job_id)["ModerationLabels"]
    assert len(labels) == len(ABOVE_50) == 19
    assert min(r["ModerationLabel"]["Confidence"] for r in labels) >= 50
    assert [r["Timestamp"] for r in labels] == sorted(r["Timestamp"] for r in labels)


@pytest.mark.parametrize(("min_confidence", "expected"), [(0, 21), (80, 8), (100, 0)])
def test_min_confidence_filters(aws, video, min_confidence, expected):
    rekognition = aws.client("rekognition")
    job_id = rekognition.start_content_moderation(Video=video, MinConfidence=min_confidence)[
        "JobId"
    ]
    labels = rekognition.get_content_moderation(JobId=job_id)["ModerationLabels"]
    assert len(labels) == expected
    assert all(r["ModerationLabel"]["Confidence"] >= min_confidence for r in labels)


def test_sort_by_name(aws, video):
    rekognition = aws.client("rekognition")
    job_id = rekognition.start_content_moderation(Video=video)["JobId"]
    page = rekognition.get_content_moderation(JobId=job_id, SortBy="NAME")
    names = [r["ModerationLabel"]["Name"] for r in page["ModerationLabels"]]
    assert names == sorted(names)
    alcohol = [
        r["ModerationLabel"]["Confidence"]
        for r in page["ModerationLabels"]
        if r["ModerationLabel"]["Name"] == "Alcohol"
    ]
    assert alcohol == sorted(alcohol, reverse=True)
    assert page["GetRequestMetadata"]["SortBy"] == "NAME"


def test_aggregate_by_segments(aws, video):
    rekognition = aws.client("rekognition")
    job_id = rekognition.start_content_moderation(Video=video)["JobId"]
    page = rekognition.get_content_moderation(JobId=job_id, AggregateBy="SEGMENTS")
    assert page["GetRequestMetadata"]["AggregateBy"] == "SEGMENTS"
    segments = {
        (s["ModerationLabel"]["Name"], s["StartTimestampMillis"]): s
        for s in page["ModerationLabels"]
    }
    first = segments[("Alcohol", 1000)]
    assert (first["EndTimestampMillis"], first["DurationMillis"]) == (2500, 1500)
    assert first["ModerationLabel"]["Confidence"] == 93.25
    assert first["Timestamp"] == 1000
    assert segments[("Alcohol", 5000)]["EndTimestampMillis"] == 5500
    weapons = segments[("Weapons", 8000)]
    assert weapons["EndTimestampMillis"] == 9000  # a 1000 ms gap still joins
    assert weapons["ContentTypes"] == [{"Confidence": 88.0, "Name": "Animated"}]
    assert ("Weapons", 10500) in segments  # a 1500 ms gap splits
    assert ("Drinking", 2000) in segments and ("Smoking", 3000) not in segments
    assert len(segments) == 9
    starts = [s["StartTimestampMillis"] for s in page["ModerationLabels"]]
    assert starts == sorted(starts)


def test_paging_with_max_results(aws, video):
    rekognition = aws.client("rekognition")
    job_id = rekognition.start_content_moderation(Video=video)["JobId"]
    pages = all_pages(rekognition, job_id, MaxResults=7)
    assert [len(p["ModerationLabels"]) for p in pages] == [7, 7, 5]
    assert all(p["VideoMetadata"]["FrameHeight"] == 360 for p in pages)
    rows = [row for p in pages for row in p["ModerationLabels"]]
    whole = rekognition.get_content_moderation(JobId=job_id)["ModerationLabels"]
    assert rows == whole


def test_paging_segments_sorted_by_name(aws, video):
    rekognition = aws.client("rekognition")
    job_id = rekognition.start_content_moderation(Video=video)["JobId"]
    pages = all_pages(rekognition, job_id, MaxResults=3, AggregateBy="SEGMENTS", SortBy="NAME")
    names = [s["ModerationLabel"]["Name"] for p in pages for s in p["ModerationLabels"]]
    assert names == sorted(names)
    assert [len(p["ModerationLabels"]) for p in pages] == [3, 3, 3]


def test_max_results_above_1000_is_capped_and_below_1_rejected(aws, video):
    rekognition = aws.client("rekognition")
    job_id = rekognition.start_content_moderation(Video=video)["JobId"]
    assert (
        len(rekognition.get_content_moderation(JobId=job_id, MaxResults=5000)["ModerationLabels"])
        == 19
    )


@pytest.mark.parametrize("token", ["garbage", "x" * 255])
def test_bad_pagination_token(aws, video, token):
    rekognition = aws.client("rekognition")
    job_id = rekognition.start_content_moderation(Video=video)["JobId"]
    with pytest.raises(ClientError) as excinfo:
        rekognition.get_content_moderation(JobId=job_id, NextToken=token)
    assert error_code(excinfo) == "InvalidPaginationTokenException"


def test_token_of_another_job_is_rejected(aws, video):
    rekognition = aws.client("rekognition")
    first = rekognition.start_content_moderation(Video=video)["JobId"]
    second = rekognition.start_content_moderation(Video=video)["JobId"]
    token = rekognition.get_content_moderation(JobId=first, MaxResults=2)["NextToken"]
    with pytest.raises(rekognition.exceptions.InvalidPaginationTokenException):
        rekognition.get_content_moderation(JobId=second, NextToken=token)


def test_client_request_token_is_idempotent(aws, video):
    rekognition = aws.client("rekognition")
    first = rekognition.start_content_moderation(Video=video, ClientRequestToken="run-1")
    again = rekognition.start_content_moderation(Video=video, ClientRequestToken="run-1")
    assert first["JobId"] == again["JobId"]
    other = rekognition.start_content_moderation(Video=video, ClientRequestToken="run-2")
    assert other["JobId"] != first["JobId"]
    with pytest.raises(rekognition.exceptions.IdempotentParameterMismatchException):
        rekognition.start_content_moderation(
            Video=video, ClientRequestToken="run-1", MinConfidence=80
        )


def test_missing_object_and_bucket(aws, video):
    rekognition = aws.client("rekognition")
    for s3_object in (
        {"Bucket": BUCKET, "Name": "videos/missing.mp4"},
        {"Bucket": "no-such-bucket-here", "Name": "x.mp4"},
        {**video["S3Object"], "Version": "no-such-version"},
    ):
        with pytest.raises(rekognition.exceptions.InvalidS3ObjectException):
            rekognition.start_content_moderation(Video={"S3Object": s3_object})


def test_bucket_in_another_region(aws, fixture_video):
    s3 = aws.client("s3", region_name="eu-west-1")
    s3.create_bucket(
        Bucket="vmk-eu-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    s3.put_object(Bucket="vmk-eu-bucket", Key="v.mp4", Body=fixture_video)
    video = {"S3Object": {"Bucket": "vmk-eu-bucket", "Name": "v.mp4"}}
    with pytest.raises(ClientError) as excinfo:
        aws.client("rekognition").start_content_moderation(Video=video)
    assert error_code(excinfo) == "InvalidS3ObjectException"
    job = aws.client("rekognition", region_name="eu-west-1").start_content_moderation(Video=video)
    assert job["JobId"]


@pytest.mark.parametrize(
    ("kwargs", "member"),
    [
        ({"MinConfidence": 150}, "minConfidence"),
        ({"JobTag": "has spaces"}, "jobTag"),
        ({"ClientRequestToken": "no/slashes"}, "clientRequestToken"),
        ({"ClientRequestToken": "t" * 65}, "clientRequestToken"),
        (
            {
                "NotificationChannel": {
                    "SNSTopicArn": "not-an-arn",
                    "RoleArn": "arn:aws:iam::123456789012:role/r",
                }
            },
            "notificationChannel.sNSTopicArn",
        ),
    ],
)
def test_start_validation_errors(aws, video, kwargs, member):
    with pytest.raises(ClientError) as excinfo:
        aws.client("rekognition").start_content_moderation(Video=video, **kwargs)
    assert error_code(excinfo) == "InvalidParameterException"
    assert f"at '{member}' failed to satisfy constraint" in str(excinfo.value)
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"SortBy": "CONFIDENCE"}, "enum value set: [NAME, TIMESTAMP]"),
        ({"AggregateBy": "FRAMES"}, "enum value set: [TIMESTAMPS, SEGMENTS]"),
        ({"JobId": "bad id!"}, "regular expression pattern"),
    ],
)
def test_get_validation_errors(aws, video, kwargs, fragment):
    rekognition = aws.client("rekognition")
    params = {"JobId": rekognition.start_content_moderation(Video=video)["JobId"], **kwargs}
    with pytest.raises(rekognition.exceptions.InvalidParameterException, match=re.escape(fragment)):
        rekognition.get_content_moderation(**params)


def test_unknown_job(aws):
    rekognition = aws.client("rekognition")
    with pytest.raises(rekognition.exceptions.ResourceNotFoundException):
        rekognition.get_content_moderation(JobId="0" * 64)


def test_matching_by_file_name_warns(aws, mp4, caplog):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=f"other/{FIXTURE_FILE}", Body=mp4(salt=b"re-encoded"))
    rekognition = aws.client("rekognition")
    with caplog.at_level(logging.WARNING, logger="helpers.offline"):
        job_id = rekognition.start_content_moderation(
            Video={"S3Object": {"Bucket": BUCKET, "Name": f"other/{FIXTURE_FILE}"}}
        )["JobId"]
    assert "by file name" in caplog.text
    assert len(rekognition.get_content_moderation(JobId=job_id)["ModerationLabels"]) == 19


def test_unknown_video_succeeds_without_labels(aws, mp4, caplog):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="own.mp4", Body=mp4(width=1920, height=1080, fps=30))
    rekognition = aws.client("rekognition")
    with caplog.at_level(logging.WARNING, logger="helpers.offline"):
        job_id = rekognition.start_content_moderation(
            Video={"S3Object": {"Bucket": BUCKET, "Name": "own.mp4"}}
        )["JobId"]
    assert "no recording" in caplog.text
    result = rekognition.get_content_moderation(JobId=job_id)
    assert result["JobStatus"] == "SUCCEEDED"
    assert result["ModerationLabels"] == []
    assert result["VideoMetadata"]["FrameWidth"] == 1920
    assert result["VideoMetadata"]["FrameRate"] == 30.0


@pytest.mark.parametrize("body", [b"this is a text file, not a video", "hevc"])
def test_unsupported_files_fail_with_a_status_message(aws, mp4, body):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="bad.mp4", Body=mp4(codec=b"hvc1") if body == "hevc" else body)
    rekognition = aws.client("rekognition")
    job_id = rekognition.start_content_moderation(
        Video={"S3Object": {"Bucket": BUCKET, "Name": "bad.mp4"}}
    )["JobId"]
    result = rekognition.get_content_moderation(JobId=job_id)
    assert result["JobStatus"] == "FAILED"
    assert result["StatusMessage"]
    assert result["ModerationLabels"] == []


def test_concurrent_job_limit(aws, video):
    aws.settings.job_seconds = 60
    aws.settings.max_concurrent_jobs = 2
    rekognition = aws.client("rekognition", config=Config(retries={"total_max_attempts": 1}))
    rekognition.start_content_moderation(Video=video)
    rekognition.start_content_moderation(Video=video)
    with pytest.raises(rekognition.exceptions.LimitExceededException):
        rekognition.start_content_moderation(Video=video)
    aws.advance(61)
    rekognition.start_content_moderation(Video=video)


def test_completion_is_published_to_sns(aws, video):
    aws.settings.job_seconds = 30
    sns, sqs = aws.client("sns"), aws.client("sqs")
    topic = sns.create_topic(Name="AmazonRekognitionVmk")["TopicArn"]
    queue = sqs.create_queue(QueueName="vmk-jobs")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    rekognition = aws.client("rekognition")
    job_id = rekognition.start_content_moderation(
        Video=video,
        JobTag="tagged",
        NotificationChannel={
            "SNSTopicArn": topic,
            "RoleArn": "arn:aws:iam::123456789012:role/RekognitionSns",
        },
    )["JobId"]
    assert "Messages" not in sqs.receive_message(QueueUrl=queue)
    aws.advance(31)
    messages = sqs.receive_message(QueueUrl=queue)["Messages"]
    message = json.loads(messages[0]["Body"])
    assert message["JobId"] == job_id
    assert message["Status"] == "SUCCEEDED"
    assert message["API"] == "StartContentModeration"
    assert message["JobTag"] == "tagged"
    assert message["Video"] == {"S3ObjectName": video["S3Object"]["Name"], "S3Bucket": BUCKET}
    assert isinstance(message["Timestamp"], int)
