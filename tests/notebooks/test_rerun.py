"""Every notebook run twice in a row: no error, no duplicate resources, nothing left behind."""

from pathlib import Path

import pytest

from helpers import cleanup, demo
from helpers.offline import OfflineSettings


def _count(server) -> dict[str, int]:
    """What the kit's runs left in the stand-in: resources by kind."""
    return cleanup.inventory(**demo.clients_for(server))


@pytest.mark.notebooks
def test_every_notebook_twice_in_a_row(tmp_path):
    seen: dict[str, dict[str, int]] = {}

    def inspect(path: Path, server) -> None:
        seen[path.name] = _count(server)

    paths = [p for p in demo.notebook_paths() for _ in range(2)]
    settings = OfflineSettings.instant()
    _, problems, state, _ = demo.execute(paths, tmp_path, settings, quiet=True, after_each=inspect)
    assert problems == []
    # after the review set-up and the reviews, each ran twice: one of each, not two
    assert seen["03_set_up_human_review.ipynb"]["human task UIs"] == 1
    assert seen["03_set_up_human_review.ipynb"]["flow definitions"] == 1
    assert seen["04_review_with_human_loop.ipynb"]["human loops"] == 1
    many = len(state["many_review"]["loops"])
    assert seen["06_many_videos.ipynb"]["human loops"] == 1 + many
    left = dict(seen["09_clean_up.ipynb"])
    kept = left.pop(cleanup.ANSWERS_KEPT)
    assert set(left.values()) == {0}, left
    assert kept == 1 + many  # every loop's answer stays in S3 (delete_answers=False)
    folder = Path(state["exported"]["folder"])
    assert not folder.is_relative_to(demo.ROOT)  # demo and test runs never write into the repo
    assert folder.name == state["session"]["run_id"]
    exported = sorted(folder.glob("raw/*"))
    assert len(exported) == 1 + many  # and was exported before anything was deleted
    assert (folder / "verdicts.parquet").is_file()  # in the results store notebook 08 reads
    # 08 ran before clean up and learned from this run's audit items, read from S3
    assert state["learning"]["audit_items"] == state["review"]["audit_items"] > 0
