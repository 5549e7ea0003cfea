"""botocore's parsed models kept between processes: same data, never stale, never code."""

from __future__ import annotations

import json
import os
import pickle
from collections import OrderedDict

import botocore.loaders
import pytest

from helpers import botocore_cache
from helpers.botocore_cache import CachedFileLoader, Store


def _fresh(folder, data_path=None):
    """A loader as a new process would make it (nothing in memory, the cache on disk)."""
    return botocore_cache.loader(data_path, folder=folder)


def test_a_model_from_the_cache_is_botocore_own_reading_with_its_types(tmp_path, monkeypatch):
    own = botocore.loaders.Loader().load_service_model("rekognition", "service-2")
    first = _fresh(tmp_path).load_service_model("rekognition", "service-2")
    assert list(tmp_path.glob("*.pickle")), "the first reading is kept"

    parsed = []
    own_reading = botocore.loaders.JSONFileLoader.load_file

    def counted(self, file_path):
        data = own_reading(self, file_path)
        if data is not None:
            parsed.append(file_path)
        return data

    monkeypatch.setattr(botocore.loaders.JSONFileLoader, "load_file", counted)
    later = _fresh(tmp_path).load_service_model("rekognition", "service-2")
    assert parsed == [], "a cached model was parsed from its JSON again"
    assert first == own and later == own
    assert type(later) is OrderedDict
    assert type(later["shapes"]["StartContentModerationRequest"]) is OrderedDict


def test_a_changed_file_is_read_again(tmp_path):
    store = Store(tmp_path / "cache")
    source = tmp_path / "model"
    source.with_suffix(".json").write_text(json.dumps({"version": 1}))
    assert CachedFileLoader(store).load_file(str(source)) == {"version": 1}
    source.with_suffix(".json").write_text(json.dumps({"version": 22}))
    assert CachedFileLoader(store).load_file(str(source)) == {"version": 22}
    assert CachedFileLoader(store).load_file(str(tmp_path / "absent")) is None


def test_a_planted_pickle_cannot_run_code_and_counts_as_a_miss(tmp_path):
    store = Store(tmp_path / "cache")
    source = tmp_path / "model"
    source.with_suffix(".json").write_text(json.dumps({"real": True}))
    loader = CachedFileLoader(store)
    assert loader.load_file(str(source)) == {"real": True}
    [entry] = (tmp_path / "cache").glob("*.pickle")
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (exec, (f"open({str(marker)!r}, 'w').close()",))

    entry.write_bytes(pickle.dumps(Payload()))
    assert CachedFileLoader(store).load_file(str(source)) == {"real": True}
    assert not marker.exists()
    entry.write_bytes(b"not a pickle")
    assert CachedFileLoader(store).load_file(str(source)) == {"real": True}


def test_a_folder_others_may_write_to_is_not_used(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    assert Store(shared).folder is None
    made = tmp_path / "new" / "cache"
    assert Store(made).folder == made
    assert made.stat().st_mode & 0o777 == 0o700


def test_the_service_list_is_kept_only_for_packaged_data(tmp_path):
    cache = tmp_path / "cache"
    services = _fresh(cache).list_available_services("service-2")
    assert "rekognition" in services and "sagemaker-a2i-runtime" in services
    kept = set(cache.glob("*.pickle"))
    assert kept and _fresh(cache).list_available_services("service-2") == services

    # a data folder of the user's own (AWS_DATA_PATH): always listed, never cached
    extra = tmp_path / "models" / "kitservice" / "2024-01-01"
    extra.mkdir(parents=True)
    (extra / "service-2.json").write_text(json.dumps({"metadata": {}, "operations": {}}))
    listed = _fresh(cache, str(tmp_path / "models")).list_available_services("service-2")
    assert "kitservice" in listed and "rekognition" in listed
    assert set(cache.glob("*.pickle")) == kept


@pytest.mark.parametrize("value", ["off", "OFF", "0", "false", "no"])
def test_the_cache_can_be_turned_off(monkeypatch, value):
    monkeypatch.setenv("VMK_BOTOCORE_CACHE", value)
    assert botocore_cache.default_folder() is None
    assert Store(botocore_cache.default_folder()).folder is None


def test_the_cache_folder_is_per_botocore_version(monkeypatch, tmp_path):
    monkeypatch.setenv("VMK_BOTOCORE_CACHE", str(tmp_path))
    assert botocore_cache.default_folder() == tmp_path / botocore.__version__
    monkeypatch.delenv("VMK_BOTOCORE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    expected = tmp_path / "xdg" / "video-moderation-kit" / "botocore" / botocore.__version__
    assert botocore_cache.default_folder() == expected


def test_the_garbage_collector_is_left_as_it_was(tmp_path):
    import gc

    store = Store(tmp_path / "cache")
    source = tmp_path / "model"
    source.with_suffix(".json").write_text(json.dumps({"a": [1, 2]}))
    assert gc.isenabled()
    for _ in range(2):  # read from JSON, then from the cache
        assert CachedFileLoader(store).load_file(str(source)) == {"a": [1, 2]}
        assert gc.isenabled()
    gc.disable()
    try:
        assert CachedFileLoader(store).load_file(str(source)) == {"a": [1, 2]}
        assert not gc.isenabled(), "a collector paused by the caller stays paused"
    finally:
        gc.enable()


def test_a_folder_that_cannot_be_made_means_no_cache_and_models_still_load(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    made = botocore_cache.loader(None, folder=blocker / "cache")
    assert made.store.folder is None
    assert "StartHumanLoop" in str(made.load_service_model("sagemaker-a2i-runtime", "service-2"))
    assert "rekognition" in made.list_available_services("service-2")
