"""The seen store derived again from the published files (``newscrawl rebuild-store``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from newscrawl.dedup.neardup import NearDuplicateIndex
from newscrawl.run.ledger import iter_published, story_state_of
from newscrawl.run.seenstore import Commit, PageState, SeenStore


def rebuild_store(
    spider_dir: Path, store: SeenStore, page_key: Callable[[str], str] | None = None
) -> tuple[int, int]:
    """Derive the seen store from the published files (after it was lost or emptied):
    every story at its newest version with all its fingerprints, its near-duplicate
    sketch, and the pages its records came from (``page_key`` names them). Merging into
    a store that knows more loses nothing (a version never goes back). Returns (files,
    records) read."""
    files: set[Path] = set()
    records = 0
    batch = Commit()
    pages: dict[str, str] = {}
    for path, record in iter_published(spider_dir):
        files.add(path)
        try:  # published is published: whatever else is wrong with it, it is known
            state = story_state_of(record)
        except (KeyError, TypeError, ValueError):
            continue
        sketch = NearDuplicateIndex.sketch(
            [str(record.get("title") or ""), *map(str, record.get("body") or [])]
        )
        state.sketch = NearDuplicateIndex.to_bytes(sketch) if sketch is not None else None
        batch.stories.append(state)
        batch.fingerprints[state.fingerprint] = state.key
        if page_key is not None and record.get("page_url") and record.get("fetched_at"):
            key = page_key(str(record["page_url"]))
            pages[key] = max(pages.get(key, ""), str(record["fetched_at"]))
        records += 1
        if len(batch.stories) >= 500:
            store.commit(batch)
            batch = Commit()
    batch.pages = [PageState(key, fetched_at) for key, fetched_at in pages.items()]
    store.commit(batch)
    return len(files), records
