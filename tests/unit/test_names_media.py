"""Names AWS would refuse (bucket, region) and videos Rekognition would refuse, checked locally."""

import os
from pathlib import Path

import pytest

from helpers import media, mp4, names
from helpers.errors import InputError

SAMPLE = Path(__file__).resolve().parents[2] / "datasets" / "media" / "moderation-sample.mp4"


@pytest.mark.parametrize(
    "name",
    ["ab", "x" * 64, "My-Bucket", "my_bucket", "-bucket", "bucket-", "my..bucket", "192.168.5.4",
     "xn--bucket", "sthree-bucket", "amzn-s3-demo-bucket", "bucket-s3alias", "bucket--ol-s3",
     "bucket.mrap", "bucket--x-s3", "bucket--table-s3", " bucket", "bucket ", ""],
)  # fmt: skip
def test_bucket_names_s3_refuses(name):
    with pytest.raises(InputError) as err:
        names.check_bucket_name(name)
    assert "S3" in err.value.what and err.value.fix


@pytest.mark.parametrize(
    "name", ["abc", "x" * 63, "sagemaker-us-east-1-111122223333", "my.bucket.v2", "1-2-3"]
)
def test_bucket_names_s3_accepts(name):
    assert names.check_bucket_name(name) == name


@pytest.mark.parametrize(
    "region, said",
    [("us-east-1 ", "spaces"), (" eu-west-1", "spaces"), ("US-EAST-1", "did you mean"),
     ("useast1", "not an AWS region"), ("", "not an AWS region"), (None, "not a region name")],
)  # fmt: skip
def test_regions_refused(region, said):
    with pytest.raises(InputError, match=said):
        names.check_region(region)


@pytest.mark.parametrize("region", ["us-east-1", "eu-central-2", "ap-southeast-4", "us-gov-west-1"])
def test_regions_accepted(region):
    assert names.check_region(region) == region


def test_structure_of_the_kit_videos_is_whole():
    assert mp4.structure_problem(SAMPLE) is None


def test_truncated_and_moov_less_files(tmp_path):
    data = SAMPLE.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    assert "cut short" in mp4.structure_problem(cut)
    no_moov = tmp_path / "nomoov.mp4"
    ftyp = mp4.header_only(1000)[:32]
    no_moov.write_bytes(ftyp[: int.from_bytes(ftyp[:4], "big")] + b"\x00\x00\x00\x08mdat")
    assert "no `moov`" in mp4.structure_problem(no_moov)


def test_video_folder_checks_every_file_first(tmp_path):
    folder = tmp_path / "videos"
    folder.mkdir()
    (folder / "a.mp4").write_bytes(SAMPLE.read_bytes())
    assert media.check_video_folder(folder) == [folder / "a.mp4"]
    (folder / "b.mp4").write_bytes(mp4.header_only(0))
    (folder / "c.mp4").write_bytes(SAMPLE.read_bytes()[:5000])
    (folder / "notes.txt").write_text("not a video, and not looked at")
    with pytest.raises(InputError) as err:
        media.check_video_folder(folder)
    assert "2 of the 3 videos" in err.value.what
    assert "b.mp4" in err.value.what and "c.mp4" in err.value.what


def test_video_folder_missing_empty_or_a_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        media.check_video_folder(tmp_path / "nope")
    with pytest.raises(InputError, match="No video files"):
        media.check_video_folder(tmp_path)
    with pytest.raises(InputError, match="is a file"):
        media.check_video_folder(SAMPLE)


@pytest.mark.skipif(os.name == "nt", reason="Windows file names are always Unicode")
def test_non_utf8_file_name(tmp_path):
    raw = os.path.join(os.fsencode(tmp_path), b"clip-\xff.mp4")
    with open(raw, "wb") as fh:
        fh.write(SAMPLE.read_bytes())
    path = Path(os.fsdecode(raw))
    with pytest.raises(InputError, match="not UTF-8") as err:
        media.check_video_file(path)
    assert "rename" in err.value.fix
