"""``newscrawl dataset``: all published runs of a spider as one snapshot for downstream use.

Each story key once, at its latest version (ties go to the latest ``last_seen``), from
the published run files only (never from ``.partial``). Written whole: to a temporary
file first, then renamed into place.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def run_files(spider_dir: Path) -> list[Path]:
    """The spider's published run files, oldest first."""
    files = [*spider_dir.glob("2*/*/*/*.jsonl"), *spider_dir.glob("2*/*/*/*.jsonl.gz")]
    return sorted(files, key=lambda p: p.name)


def records(path: Path) -> Iterator[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def latest_versions(files: list[Path]) -> list[dict[str, Any]]:
    """Each story key once, at its highest version; in first-seen order."""
    latest: dict[str, dict[str, Any]] = {}
    for path in files:
        for record in records(path):
            key = record.get("key") or record["id"]
            known = latest.get(key)
            rank = (record.get("version") or 0, record.get("last_seen") or "")
            if known is None or rank > (known.get("version") or 0, known.get("last_seen") or ""):
                latest[key] = record
    return sorted(latest.values(), key=lambda r: (r.get("first_seen") or "", r.get("key") or ""))


def _replace_into(target: Path, write: Any) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    write(temporary)
    os.replace(temporary, target)


def write_jsonl(stories: list[dict[str, Any]], target: Path) -> None:
    def write(path: Path) -> None:
        with path.open("w", encoding="utf-8") as handle:
            for story in stories:
                handle.write(json.dumps(story, ensure_ascii=False) + "\n")

    _replace_into(target, write)


def write_parquet(stories: list[dict[str, Any]], target: Path) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise SystemExit(
            "newscrawl dataset: --parquet needs pyarrow: pip install 'newscrawl[parquet]'"
        ) from None
    table = pa.Table.from_pylist(stories)
    _replace_into(target, lambda path: pq.write_table(table, path))


def build(spider_dir: Path, out: Path | None, parquet: Path | None) -> tuple[int, int]:
    """Write the snapshot(s); (run files read, stories written)."""
    files = run_files(spider_dir)
    stories = latest_versions(files)
    if out is not None:
        write_jsonl(stories, out)
    if parquet is not None:
        write_parquet(stories, parquet)
    return len(files), len(stories)
