"""The kit's boto3 sessions share botocore's data loader: models are read once per process."""

from __future__ import annotations

from helpers import session


def test_sessions_share_one_loader_and_its_search_path_does_not_grow():
    first = session.new_boto_session(region_name="us-east-1")
    paths = list(first._loader.search_paths)
    for _ in range(5):
        later = session.new_boto_session(region_name="eu-west-1")
        assert later._loader is first._loader
    assert first._loader.search_paths == paths
    assert len(paths) == len(set(paths))


def test_a_model_read_by_one_session_serves_the_next_and_its_clients_work():
    session.new_boto_session(region_name="us-east-1").client("rekognition")
    loader = session.new_boto_session()._loader
    assert any(key[:2] == ("load_service_model", "rekognition") for key in loader._cache)
    client = session.new_boto_session(
        region_name="eu-west-1", aws_access_key_id="a", aws_secret_access_key="b"
    ).client("rekognition")
    assert client.meta.region_name == "eu-west-1"
    assert "StartContentModeration" in client.meta.service_model.operation_names
