"""The seen store's one interface, on SQLite and on a real Redis server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newscrawl.run.seenstore import (
    Commit,
    PageState,
    SeenStore,
    StoryState,
    open_store,
)


@pytest.fixture
def store(store_settings: dict[str, Any], tmp_path: Path) -> Iterator[SeenStore]:
    opened = open_store(
        store_settings.get("NEWSCRAWL_SEEN_STORE", ""),
        default_path=tmp_path / "seen.sqlite3",
        namespace=str(store_settings.get("NEWSCRAWL_SEEN_NAMESPACE", "x")).format(spider="s"),
    )
    yield opened
    opened.close()


def story(
    key: str, print_: str, version: int = 1, seen: str = "2025-03-01T10:00:00+00:00"
) -> StoryState:
    return StoryState(key, print_, version, "2025-03-01T09:00:00+00:00", seen, b"\x01" * 16)


def test_commit_then_look_up_stories_fingerprints_aliases_and_pages(store: SeenStore) -> None:
    assert store.stories(["a:1"]) == {}
    batch = Commit(
        stories=[story("a:1", "f1"), story("a:2", "f2")],
        fingerprints={"f1": "a:1", "f2": "a:2"},
        aliases={"a:sha256:x": "a:1"},
        pages=[PageState("p:1", "2025-03-01T10:00:00+00:00", '{"feed": "t"}')],
    )
    store.commit(batch)
    found = store.stories(["a:1", "a:sha256:x", "a:3"])
    assert set(found) == {"a:1", "a:sha256:x"}
    assert found["a:sha256:x"].key == "a:1"  # the alias resolves to its story
    assert found["a:1"].sketch == b"\x01" * 16
    assert store.stories(["a:sha256:x"])["a:sha256:x"] == found["a:1"]  # its story not asked for
    assert store.owners(["f1", "f2", "f9"]) == {"f1": "a:1", "f2": "a:2"}
    assert store.pages(["p:1", "p:2"]) == {
        "p:1": PageState("p:1", "2025-03-01T10:00:00+00:00", '{"feed": "t"}')
    }


def test_new_versions_keep_every_fingerprint(store: SeenStore) -> None:
    store.commit(Commit(stories=[story("a:1", "f1")], fingerprints={"f1": "a:1"}))
    store.commit(Commit(stories=[story("a:1", "f2", version=2)], fingerprints={"f2": "a:1"}))
    assert store.stories(["a:1"])["a:1"].version == 2
    assert store.stories(["a:1"])["a:1"].fingerprint == "f2"
    assert store.owners(["f1", "f2"]) == {"f1": "a:1", "f2": "a:1"}
    # A fingerprint first seen under one story keeps that owner.
    store.commit(Commit(fingerprints={"f1": "a:9"}))
    assert store.owners(["f1"]) == {"f1": "a:1"}


def test_sketches_since_a_time_in_seen_order(store: SeenStore) -> None:
    store.commit(
        Commit(
            stories=[
                story("old", "f0", seen="2025-01-01T00:00:00+00:00"),
                story("new", "f1", seen="2025-03-02T00:00:00+00:00"),
                story("mid", "f2", seen="2025-02-15T00:00:00+00:00"),
            ]
        )
    )
    recent = [key for key, _, _ in store.sketches("2025-02-01T00:00:00+00:00")]
    assert recent == ["mid", "new"]


def test_lookups_in_large_batches(store: SeenStore) -> None:
    keys = [f"k:{n}" for n in range(1200)]  # more than one lookup chunk
    store.commit(
        Commit(
            stories=[story(k, f"f{n}") for n, k in enumerate(keys)],
            fingerprints={f"f{n}": k for n, k in enumerate(keys)},
        )
    )
    assert len(store.stories(keys)) == 1200
    assert len(store.owners([f"f{n}" for n in range(1200)])) == 1200
    assert store.size()["stories"] == 1200


def test_unknown_store_url_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown store"):
        open_store("mongodb://x", default_path=tmp_path / "s", namespace="n")


def test_a_stale_writer_cannot_move_a_version_back(store: SeenStore) -> None:
    store.commit(Commit(stories=[story("a:1", "f3", version=3)]))
    store.commit(Commit(stories=[story("a:1", "f2", version=2)]))
    assert store.stories(["a:1"])["a:1"].version == 3
    assert store.stories(["a:1"])["a:1"].fingerprint == "f3"


def test_a_commit_tells_which_story_holds_each_text_the_first_writer(store: SeenStore) -> None:
    first = Commit(stories=[story("a:1", "f1")], fingerprints={"f1": "a:1"})
    store.commit(first)
    assert first.owners == {"f1": "a:1"}
    late = Commit(stories=[story("a:2", "f1"), story("a:3", "f3")])
    late.fingerprints = {"f1": "a:2", "f3": "a:3"}  # another writer's copy of f1's text
    store.commit(late)
    assert late.owners == {"f1": "a:1", "f3": "a:3"}
    assert store.owners(["f1", "f3"]) == late.owners
    pages_only = Commit(pages=[PageState("p:1", "2025-03-01T00:00:00+00:00")])
    store.commit(pages_only)
    assert pages_only.owners == {}


def test_a_stale_touch_cannot_move_last_seen_back(store: SeenStore) -> None:
    store.commit(Commit(stories=[story("a:1", "f1", seen="2025-03-02T00:00:00+00:00")]))
    store.commit(Commit(stories=[story("a:1", "f1", seen="2025-03-01T00:00:00+00:00")]))
    assert store.stories(["a:1"])["a:1"].last_seen == "2025-03-02T00:00:00+00:00"
    store.commit(Commit(stories=[story("a:1", "f1", seen="2025-03-03T00:00:00+00:00")]))
    assert store.stories(["a:1"])["a:1"].last_seen == "2025-03-03T00:00:00+00:00"


def test_committed_bytes_of_run_files_are_kept(store: SeenStore) -> None:
    store.commit(Commit(files={"20261124T000000Z-abcdef": 0}))
    store.commit(Commit(files={"20261124T000000Z-abcdef": 4096}))
    assert store.committed_bytes(["20261124T000000Z-abcdef", "other"]) == {
        "20261124T000000Z-abcdef": 4096
    }
    store.commit(Commit(files={"20261101T000000Z-000000.w000001": 10}))
    assert store.forget_files("20261117T000000Z") == 1
    assert store.committed_bytes(["20261101T000000Z-000000.w000001"]) == {}
    assert store.committed_bytes(["20261124T000000Z-abcdef"]) == {"20261124T000000Z-abcdef": 4096}


def test_sketches_older_than_the_window_are_forgotten(store: SeenStore) -> None:
    store.commit(
        Commit(
            stories=[
                story("old", "f0", seen="2025-01-01T00:00:00+00:00"),
                story("new", "f1", seen="2025-03-02T00:00:00+00:00"),
            ]
        )
    )
    store.forget_sketches("2025-02-01T00:00:00+00:00")
    assert [key for key, _, _ in store.sketches("2024-01-01T00:00:00+00:00")] == ["new"]
    assert store.stories(["old"])["old"].sketch is None  # the story itself is kept
    assert store.stories(["old"])["old"].fingerprint == "f0"
