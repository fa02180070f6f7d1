"""Near-duplicates: the same wire story under two keys, lightly edited."""

from __future__ import annotations

import random
from collections import deque
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
from datasketch import MinHash, MinHashLSH
from scrapy.utils.test import get_crawler

from newscrawl.dedup.decide import StoryDedup
from newscrawl.dedup.identity import shingles
from newscrawl.dedup.neardup import NearDuplicateIndex, bands_for
from newscrawl.discover.spiders.arabnews import ArabNewsSpider
from newscrawl.run.state import CrawlState
from tests.crawling import project_settings

WIRE = [
    "GENEVA: Negotiators from both sides met on Tuesday for a third round of talks on the "
    "release of prisoners, a United Nations spokesperson said.",
    "The talks, held behind closed doors, are expected to last until the end of the week, "
    "according to two diplomats who asked not to be named.",
    "A previous round in the spring ended without an agreement on the number of detainees.",
]
EDITED = [WIRE[0], WIRE[1].replace("two diplomats", "three diplomats"), WIRE[2]]
OTHER = [
    "CAIRO: The central bank kept its main interest rate unchanged on Thursday.",
    "Analysts had expected the decision after inflation slowed for a third month.",
]
T0 = datetime(2025, 3, 1, tzinfo=timezone.utc)
# The reference the window is built to agree with: datasketch 2's default MinHash.
SCHEME = "affine32"
PERMUTATIONS = MinHash(num_perm=128, scheme=SCHEME).permutations


def sketch(paragraphs: list[str]) -> Any:
    made = NearDuplicateIndex.sketch(paragraphs)
    assert made is not None
    return made


def test_sketches_are_datasketchs_minhashes() -> None:
    # The seen store keeps sketches from earlier runs: they must stay what they were.
    rng = random.Random(5)
    words = ["wire", "story", "é", "ünïcode", "7", "talks", "x" * 40]
    texts = [[" ".join(rng.choices(words, k=rng.randrange(1, 120)))] for _ in range(200)]
    for paragraphs in [*texts, WIRE, OTHER, ["one"], ["two words"]]:
        reference = MinHash(num_perm=128, scheme=SCHEME)
        reference.update_batch(list(shingles(paragraphs)))
        ours = sketch(paragraphs)
        assert ours.dtype == np.uint32
        assert ours.tolist() == reference.hashvalues.tolist()
    assert NearDuplicateIndex.sketch(["  ", ""]) is None


def test_bands_are_those_of_datasketchs_lsh() -> None:
    for threshold in [0.05 * n for n in range(1, 20)] + [0.8, 0.85, 0.9, 0.95, 0.98]:
        reference = MinHashLSH(threshold=threshold, num_perm=128)
        assert bands_for(threshold) == (reference.b, reference.r), threshold
    # Where datasketch refuses (one band), the window still works: a threshold of 1
    # is a setting the configuration accepts.
    strict = NearDuplicateIndex(threshold=1.0)
    assert strict.bands == 1
    strict.add("wire:a", sketch(WIRE), T0)
    assert strict.match("wire:b", sketch(WIRE)) == "wire:a"
    assert strict.match("wire:b", sketch(EDITED)) is None


def test_light_edits_match_and_other_stories_do_not() -> None:
    index = NearDuplicateIndex(threshold=0.8)
    index.add("wire:a", sketch(WIRE), T0)
    index.add("bank", sketch(OTHER), T0)
    assert index.match("wire:b", sketch(EDITED)) == "wire:a"
    assert index.match("wire:a", sketch(WIRE)) is None  # never itself
    assert index.match("new", sketch(["Completely different text about camels and races."])) is None


def test_sketches_survive_storage_as_bytes() -> None:
    stored = NearDuplicateIndex.from_bytes(NearDuplicateIndex.to_bytes(sketch(WIRE)))
    assert stored is not None
    assert NearDuplicateIndex.similarity(stored, sketch(WIRE)) == 1.0
    assert NearDuplicateIndex.from_bytes(b"\x00" * 1024) is None  # not ours: ignored


def test_the_window_forgets_old_stories() -> None:
    index = NearDuplicateIndex(threshold=0.8, window_days=30)
    index.add("wire:a", sketch(WIRE), T0)
    index.add("bank", sketch(OTHER), T0 + timedelta(days=20))
    assert len(index) == 2
    index.add(
        "later", sketch(["Something else entirely, said the minister."]), T0 + timedelta(days=31)
    )
    assert len(index) == 2  # wire:a left the window
    assert index.match("wire:b", sketch(EDITED)) is None
    # A story seen again moves forward in the window.
    index.add("bank", sketch(OTHER), T0 + timedelta(days=45))
    index.add("x", sketch(["Yet another text here."]), T0 + timedelta(days=55))
    assert "bank" in index


def test_matches_are_those_of_datasketchs_lsh_over_a_long_window() -> None:
    # Thousands of stories, edited copies among them, keys added again and stories
    # leaving the window: enough to sort, compact and renumber the index many times.
    rng = random.Random(11)
    vocabulary = [f"w{n}" for n in range(2_000)]
    originals = [rng.choices(vocabulary, k=60) for _ in range(150)]
    index = NearDuplicateIndex(threshold=0.8, window_days=1)
    reference = MinHashLSH(threshold=0.8, num_perm=128)
    sketches: dict[str, Any] = {}
    latest: dict[str, datetime] = {}
    matched = 0
    added: deque[tuple[datetime, str]] = deque()
    for n in range(3_000):
        words = list(rng.choice(originals))
        for _ in range(rng.choice([0, 1, 3, 8, 30])):
            words[rng.randrange(len(words))] = rng.choice(vocabulary)
        made = sketch([" ".join(words)])
        key, seen = f"k{rng.randrange(1_000)}", T0 + timedelta(minutes=n)
        while added and added[0][0] < seen - timedelta(days=1):
            when, old = added.popleft()
            if latest.get(old) == when:
                reference.remove(old)
                del sketches[old], latest[old]
        minhash = MinHash(num_perm=128, hashvalues=made, scheme=SCHEME, permutations=PERMUTATIONS)
        similar = {
            other: NearDuplicateIndex.similarity(made, sketches[other])
            for other in reference.query(minhash)
            if other != key
        }
        similar = {other: value for other, value in similar.items() if value >= 0.8}
        found = index.match(key, made)
        if similar:
            matched += 1
            assert found is not None
            assert similar[found] == max(similar.values())
        else:
            assert found is None
        if key in sketches:
            reference.remove(key)
        reference.insert(key, minhash)
        sketches[key], latest[key] = made, seen
        added.append((seen, key))
        index.add(key, made, seen)
        assert len(index) == len(sketches)
    assert set(index.row_of) == set(sketches)
    assert matched > 500  # the copies were found, not only the absence of matches


def test_a_window_loaded_at_once_is_the_window_added_one_by_one() -> None:
    texts = [[f"story {n} says {n * 7} things about {n % 13} places and more"] for n in range(3)]
    made = [sketch(text) for text in texts]
    times = [T0 + timedelta(days=n * 20) for n in range(3)]
    one_by_one = NearDuplicateIndex(threshold=0.8, window_days=30)
    for n, (item, moment) in enumerate(zip(made, times, strict=True)):
        one_by_one.add(f"s{n}", item, moment)
    at_once = NearDuplicateIndex(threshold=0.8, window_days=30)
    at_once.add_many([f"s{n}" for n in range(3)], np.stack(made), times)
    assert set(at_once.row_of) == set(one_by_one.row_of) == {"s1", "s2"}
    assert at_once.match("new", made[2]) == one_by_one.match("new", made[2]) == "s2"


def record(
    key: str, body: list[str], fetched_at: str = "2025-03-01T10:00:00+00:00"
) -> dict[str, Any]:
    return {
        "id": key,
        "site": "arabnews",
        "url": None,
        "title": "Prisoner talks resume",
        "summary": [],
        "dateline": None,
        "body": body,
        "caption": None,
        "fetched_at": fetched_at,
    }


def dedup_state(tmp_path: Path, **settings: Any) -> StoryDedup:
    crawler = get_crawler(
        ArabNewsSpider, project_settings(NEWSCRAWL_OUTPUT_DIR=str(tmp_path), **settings)
    )
    return StoryDedup(crawler, CrawlState(crawler))


def test_near_duplicates_are_marked_not_dropped_by_default(tmp_path: Path) -> None:
    state = dedup_state(tmp_path)
    first = state.decide(record("arabnews:1", WIRE))
    second = state.decide(record("arabnews:2", EDITED))
    assert first.emit
    assert first.fields["duplicate_of"] is None
    assert second.emit
    assert second.fields["duplicate_of"] == "arabnews:1"
    state.state.close(publish=False)


def test_near_duplicates_can_be_dropped(tmp_path: Path) -> None:
    state = dedup_state(tmp_path, NEWSCRAWL_DROP_NEAR_DUPLICATES=True)
    assert state.decide(record("arabnews:1", WIRE)).emit
    dropped = state.decide(record("arabnews:2", EDITED))
    assert not dropped.emit
    assert dropped.reason == "near-duplicate"
    state.state.close(publish=False)


def test_same_key_new_text_is_a_new_version_and_old_text_a_duplicate(tmp_path: Path) -> None:
    state = dedup_state(tmp_path)
    v1 = state.decide(record("arabnews:1", WIRE))
    v2 = state.decide(record("arabnews:1", OTHER, "2025-03-02T10:00:00+00:00"))
    assert (v1.fields["version"], v2.fields["version"]) == (1, 2)
    assert v2.fields["previous_fingerprint"] == v1.fields["fingerprint"]
    assert v2.fields["first_seen"] == "2025-03-01T10:00:00+00:00"
    assert v2.fields["duplicate_of"] is None  # its own earlier version is no duplicate
    back = state.decide(record("arabnews:1", WIRE))  # a stale copy of version 1
    assert not back.emit
    assert back.reason == "duplicate"
    state.state.close(publish=False)


def count_owner_look_ups(dedup: StoryDedup) -> list[list[str]]:
    """The fingerprints dedup asks its (real) store about from now on, call by call."""
    store = dedup.state.store
    asked: list[list[str]] = []
    owners = store.owners

    def counted(prints: Any) -> dict[str, str]:
        asked.append(list(prints))
        return owners(prints)

    store.owners = counted  # type: ignore[method-assign,assignment]
    return asked


def test_a_story_repeated_after_its_commit_is_known_without_asking_the_store(
    tmp_path: Path,
) -> None:
    dedup = dedup_state(tmp_path)
    first = record("arabnews:1", WIRE)
    first.update(dedup.decide(first).fields)
    assert dedup.state.write(first, None)
    dedup.state.commit()
    assert not dedup.overlay_fingerprints  # the store holds it now
    asked = count_owner_look_ups(dedup)
    again = dedup.decide(record("arabnews:1", WIRE, "2025-03-01T11:00:00+00:00"))
    assert (again.emit, again.reason, asked) == (False, "duplicate", [])
    # A later run's dedup asks the store once, then knows.
    later = StoryDedup(dedup.crawler, dedup.state)
    reasons = [later.decide(record("arabnews:2", WIRE)).reason for _ in range(3)]
    assert reasons == ["same-content-other-key"] * 3
    assert len(asked) == 1
    dedup.state.close(publish=False)


def test_a_new_story_the_split_stage_asked_about_is_looked_up_once(tmp_path: Path) -> None:
    dedup = dedup_state(tmp_path)
    asked = count_owner_look_ups(dedup)
    story = record("arabnews:1", WIRE)
    assert dedup.repeat(story) is None  # the split stage: not written yet
    decision = dedup.decide(story)  # the dedup stage, a moment later
    assert (decision.emit, decision.reason) == (True, "new")
    assert len(asked) == 1
    # Its copy on the next page is a repeat the split stage settles itself.
    assert dedup.repeat(record("arabnews:1", WIRE, "2025-03-01T11:00:00+00:00")) == "duplicate"
    assert len(asked) == 1
    dedup.state.close(publish=False)


def test_repeats_of_committed_stories_move_last_seen_in_one_look_up_at_the_commit(
    tmp_path: Path,
) -> None:
    dedup = dedup_state(tmp_path)
    for key, body in (("arabnews:1", WIRE), ("arabnews:2", OTHER)):
        story = record(key, body)
        story.update(dedup.decide(story).fields)
        assert dedup.state.write(story, None)
    dedup.state.commit()
    store = dedup.state.store
    asked: list[list[str]] = []
    stories = store.stories

    def counted(keys: Any) -> Any:
        asked.append(list(keys))
        return stories(keys)

    store.stories = counted  # type: ignore[method-assign]
    hours = ["2025-03-01T12:00:00+00:00", "2025-03-01T14:00:00+00:00", "2025-03-01T13:00:00+00:00"]
    for seen_at in hours:
        for key, body in (("arabnews:1", WIRE), ("arabnews:2", OTHER)):
            assert dedup.repeat(record(key, body, seen_at)) == "duplicate"
    assert asked == []  # not one look-up per repeat
    dedup.state.commit()
    assert [sorted(keys) for keys in asked] == [["arabnews:1", "arabnews:2"]]
    store.stories = stories  # type: ignore[method-assign]
    states = store.stories(["arabnews:1", "arabnews:2"])
    seen = {key: state.last_seen for key, state in states.items()}
    assert seen == {"arabnews:1": hours[1], "arabnews:2": hours[1]}  # the latest, not the last
    dedup.state.commit()  # nothing more to read
    assert len(asked) == 1
    dedup.state.close(publish=False)
