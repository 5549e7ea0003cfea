"""Secure by default: encrypted uploads, nothing public, the narrowest CORS rule."""

import lab_steps as steps
import pytest
from lab_steps import SAMPLE

from helpers import cors, media
from helpers.offline import OfflineSettings, mocked


@pytest.fixture
def session(tmp_path, monkeypatch):
    monkeypatch.setenv("VMK_STATE_FILE", str(tmp_path / "run.json"))
    with mocked(OfflineSettings(job_seconds=0)):
        yield steps.start_run()


def test_uploads_are_encrypted_with_s3_or_kms(session):
    plain = media.upload_video(session, SAMPLE)
    head = session.s3.head_object(Bucket=plain["bucket"], Key=plain["key"])
    assert head["ServerSideEncryption"] == "AES256"
    key_id = session.client("kms").create_key()["KeyMetadata"]["KeyId"]
    kms = media.upload_video(
        session, SAMPLE, key=f"{session.prefix}/input/kms.mp4", kms_key_id=key_id
    )
    head = session.s3.head_object(Bucket=kms["bucket"], Key=kms["key"])
    assert head["ServerSideEncryption"] == "aws:kms"
    assert key_id in head["SSEKMSKeyId"]


def test_nothing_is_public(session):
    video = steps.upload(session, SAMPLE, "sample")
    steps.choose_workteam(session)
    steps.allow_portal(session)
    grants = session.s3.get_object_acl(Bucket=video["bucket"], Key=video["key"])["Grants"]
    assert all("URI" not in g["Grantee"] for g in grants), "no AllUsers/AuthenticatedUsers grant"
    with pytest.raises(session.s3.exceptions.ClientError):
        session.s3.get_bucket_policy(Bucket=video["bucket"])  # the kit sets no bucket policy
    url = session.s3.generate_presigned_url(
        "get_object", Params={"Bucket": video["bucket"], "Key": video["key"]}, ExpiresIn=60
    )
    assert "X-Amz-Signature" in url or "Signature" in url


def test_cors_is_narrow_unless_asked(session):
    steps.upload(session, SAMPLE, "sample")
    team = steps.choose_workteam(session)
    rule = steps.allow_portal(session)
    assert rule["AllowedMethods"] == ["GET", "HEAD"]
    assert "*" not in rule["AllowedOrigins"]
    assert all(o.startswith(("https://", "http://127.0.0.1")) for o in rule["AllowedOrigins"])
    assert team["portal_url"].startswith(rule["AllowedOrigins"][0])
    session.s3.put_bucket_cors(
        Bucket=session.bucket,
        CORSConfiguration={"CORSRules": [{"AllowedMethods": ["PUT"], "AllowedOrigins": ["x"]}]},
    )
    wide = steps.allow_portal(session, allow_any_origin=True)
    assert wide["AllowedOrigins"] == ["*"]
    assert len(cors.current_rules(session.s3, session.bucket)) == 2  # the owner's rule stays
    assert cors.remove_cors(session.s3, session.bucket)
    assert cors.current_rules(session.s3, session.bucket)[0]["AllowedMethods"] == ["PUT"]
