from __future__ import annotations

from typing import Any

from newscrawl.dedup.identity import fingerprint, shingles, story_key
from newscrawl.text import clean_url

RECORD: dict[str, Any] = {
    "id": "arabnews:sha256:abc",
    "site": "arabnews",
    "url": None,
    "title": "Port opens new terminal",
    "summary": ["Capacity doubles"],
    "dateline": "DAMMAM",
    "body": ["DAMMAM: The port opened a terminal.", "It took “two years” to build."],
    "caption": None,
}


def test_clean_url_drops_tracking_parameters_and_fragments() -> None:
    assert (
        clean_url("HTTPS://Example.com:443/node/5/world/?utm_source=rss&fbclid=x&page=2#top")
        == "https://example.com/node/5/world?page=2"
    )
    assert clean_url("http://example.com/a?b=2&a=1") == "http://example.com/a?a=1&b=2"


def test_story_key_prefers_the_site_id_then_the_story_url_then_the_text_hash() -> None:
    assert story_key({**RECORD, "id": "arabnews:2600001"}) == "arabnews:2600001"
    with_url = {**RECORD, "url": "https://x.test/story?utm_medium=feed"}
    assert story_key(with_url) == "arabnews:url:https://x.test/story"
    assert story_key(RECORD) == "arabnews:sha256:abc"


def test_fingerprint_ignores_volatile_text_but_not_content() -> None:
    base = fingerprint(RECORD)
    same = {
        **RECORD,
        "title": "  PORT opens  new terminal ",
        "body": ["DAMMAM: The port opened a terminal.", 'It took "two years" to build.'],
        "updated": {"raw": "Updated 5 min ago"},
    }
    assert fingerprint(same) == base
    ago = {**RECORD, "body": [*RECORD["body"], "Updated 35 min 7 sec ago"]}
    later = {**RECORD, "body": [*RECORD["body"], "Updated 2 hours 5 min ago"]}
    assert fingerprint(ago) == fingerprint(later)
    shouted = {**RECORD, "body": [*RECORD["body"], "UPDATED 4 HOURS AGO"]}
    assert fingerprint(shouted) == fingerprint(later)
    changed = {**RECORD, "body": ["DAMMAM: The port opened a terminal.", "It took 3 years."]}
    assert fingerprint(changed) != base
    assert fingerprint({**RECORD, "summary": []}) != base


def test_shingles_are_word_five_grams() -> None:
    grams = shingles(["one two three four five six"])
    assert grams == {b"one two three four five", b"two three four five six"}
    assert shingles(["short text"]) == {b"short text"}
    assert shingles([]) == set()
