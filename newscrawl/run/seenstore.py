"""The seen store: what earlier runs (and this one, once written) have seen.

One small interface, two stores: SQLite (embedded, a file under the output folder,
WAL mode) and Redis (shared by distributed workers). Writes happen only in
``commit``, one transaction per batch, after the batch's records are safely on disk.

Stories are kept by key with every fingerprint they ever had (so an old version seen
again is a duplicate, not a new version); aliases map a second key of a story (seen
first under another) to its key; pages remember when they were fetched and what their
listing said; sketches (MinHash values) rebuild the near-duplicate window at start.
"""

from __future__ import annotations

import json
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from newscrawl.distributed import REDIS_TIMEOUTS

# SQLite takes at most 999 bound parameters in older builds: look keys up in chunks.
CHUNK = 500
# Seconds a Redis call may take before it fails: a stalled or unreachable server stops
# a crawl (one line, exit 3) instead of hanging it.


@dataclass
class StoryState:
    key: str
    fingerprint: str
    version: int
    first_seen: str
    last_seen: str
    sketch: bytes | None = field(default=None, repr=False)


@dataclass
class PageState:
    key: str
    fetched_at: str
    # What the listings said of the page when it was fetched: JSON {"feed": time, ...}.
    listings: str | None = None


@dataclass
class Commit:
    """One batch of changes, written in one transaction."""

    stories: list[StoryState] = field(default_factory=list)
    fingerprints: dict[str, str] = field(default_factory=dict)  # fingerprint -> story key
    aliases: dict[str, str] = field(default_factory=dict)  # another key -> story key
    pages: list[PageState] = field(default_factory=list)
    # Run file -> bytes of it written and fsynced when this batch was committed.
    files: dict[str, int] = field(default_factory=dict)
    # Filled by the store's commit: the story each of ``fingerprints`` is held under
    # now. The first story written with a text keeps it, which in a distributed run may
    # be another worker's.
    owners: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.stories or self.fingerprints or self.aliases or self.pages or self.files)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


class SeenStore(ABC):
    """What newscrawl remembers between runs."""

    @abstractmethod
    def stories(self, keys: Sequence[str]) -> dict[str, StoryState]:
        """The stories known under ``keys`` (aliases resolved), by the key asked for."""

    @abstractmethod
    def owners(self, fingerprints: Sequence[str]) -> dict[str, str]:
        """The story key that had each known fingerprint."""

    @abstractmethod
    def pages(self, keys: Sequence[str]) -> dict[str, PageState]:
        """What is known of the pages with ``keys``."""

    @abstractmethod
    def committed_bytes(self, file_ids: Sequence[str]) -> dict[str, int]:
        """How much of each run file was committed with the stories in it."""

    @abstractmethod
    def forget_files(self, before: str) -> int:
        """Forget the commit offsets of run files named before ``before`` (a run id's
        time, ``YYYYMMDDTHHMMSSZ``); how many."""

    @abstractmethod
    def commit(self, batch: Commit) -> None:
        """Write one batch atomically. A story's version never goes back: a writer with
        a stale view (another worker, a killed run's recovery) cannot undo a newer one.
        Sets ``batch.owners``."""

    @abstractmethod
    def sketches(self, since: str) -> Iterator[tuple[str, str, bytes]]:
        """(story key, last seen, sketch) of the stories seen since ``since`` (ISO)."""

    @abstractmethod
    def forget_sketches(self, before: str) -> int:
        """Drop the sketches of stories last seen before ``before`` (ISO); how many.

        Only the near-duplicate window reads sketches: older ones are dead weight.
        """

    @abstractmethod
    def size(self) -> dict[str, int]:
        """Counts (stories, fingerprints, pages) and, where known, bytes used."""

    def close(self) -> None:  # noqa: B027 - a store without resources need not close
        """Release the store's resources."""


class SqliteSeenStore(SeenStore):
    """The embedded store: one SQLite file in WAL mode."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        # WAL with synchronous=NORMAL survives a killed process (not a power cut).
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(
            """
            CREATE TABLE IF NOT EXISTS stories (
                key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, version INTEGER NOT NULL,
                first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, seen_epoch REAL NOT NULL,
                sketch BLOB
            ) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS stories_seen ON stories (seen_epoch);
            CREATE TABLE IF NOT EXISTS fingerprints (
                fingerprint TEXT PRIMARY KEY, story TEXT NOT NULL
            ) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS aliases (
                key TEXT PRIMARY KEY, story TEXT NOT NULL
            ) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS pages (
                key TEXT PRIMARY KEY, fetched_at TEXT NOT NULL, listings TEXT
            ) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS files (
                id TEXT PRIMARY KEY, committed INTEGER NOT NULL
            ) WITHOUT ROWID;
            """
        )

    def _select(self, sql: str, keys: Sequence[str]) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        for start in range(0, len(keys), CHUNK):
            chunk = list(keys[start : start + CHUNK])
            marks = ",".join("?" * len(chunk))
            rows += self.db.execute(sql.format(marks=marks), chunk).fetchall()
        return rows

    def stories(self, keys: Sequence[str]) -> dict[str, StoryState]:
        wanted = list(dict.fromkeys(keys))
        aliases = dict(
            self._select("SELECT key, story FROM aliases WHERE key IN ({marks})", wanted)
        )
        story_keys = list(dict.fromkeys(aliases.get(k, k) for k in wanted))
        found = {
            row[0]: StoryState(*row)
            for row in self._select(
                "SELECT key, fingerprint, version, first_seen, last_seen, sketch FROM stories"
                " WHERE key IN ({marks})",
                story_keys,
            )
        }
        return {k: found[aliases.get(k, k)] for k in wanted if aliases.get(k, k) in found}

    def owners(self, fingerprints: Sequence[str]) -> dict[str, str]:
        sql = "SELECT fingerprint, story FROM fingerprints WHERE fingerprint IN ({marks})"
        return dict(self._select(sql, list(dict.fromkeys(fingerprints))))

    def pages(self, keys: Sequence[str]) -> dict[str, PageState]:
        sql = "SELECT key, fetched_at, listings FROM pages WHERE key IN ({marks})"
        return {row[0]: PageState(*row) for row in self._select(sql, list(dict.fromkeys(keys)))}

    def committed_bytes(self, file_ids: Sequence[str]) -> dict[str, int]:
        sql = "SELECT id, committed FROM files WHERE id IN ({marks})"
        return dict(self._select(sql, list(dict.fromkeys(file_ids))))

    def forget_files(self, before: str) -> int:
        with self.db:
            cursor = self.db.execute("DELETE FROM files WHERE id < ?", (before,))
        return int(cursor.rowcount)

    def commit(self, batch: Commit) -> None:
        if not batch:
            return
        with self.db:  # one transaction
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany(
                "INSERT INTO stories VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET"
                " fingerprint = excluded.fingerprint, version = excluded.version,"
                " last_seen = excluded.last_seen, seen_epoch = excluded.seen_epoch,"
                " sketch = coalesce(excluded.sketch, stories.sketch)"
                # Never back (see SeenStore.commit).
                " WHERE excluded.version > stories.version OR (excluded.version ="
                " stories.version AND excluded.seen_epoch >= stories.seen_epoch)",
                [
                    (s.key, s.fingerprint, s.version, s.first_seen, s.last_seen,
                     _epoch(s.last_seen), s.sketch)
                    for s in batch.stories
                ],
            )  # fmt: skip
            self.db.executemany(
                "INSERT OR IGNORE INTO fingerprints VALUES (?, ?)", batch.fingerprints.items()
            )
            batch.owners = self.owners(list(batch.fingerprints)) if batch.fingerprints else {}
            self.db.executemany(
                "INSERT OR REPLACE INTO aliases VALUES (?, ?)", batch.aliases.items()
            )
            self.db.executemany(
                "INSERT OR REPLACE INTO pages VALUES (?, ?, ?)",
                [(p.key, p.fetched_at, p.listings) for p in batch.pages],
            )
            self.db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?)", batch.files.items())

    def sketches(self, since: str) -> Iterator[tuple[str, str, bytes]]:
        rows = self.db.execute(
            "SELECT key, last_seen, sketch FROM stories"
            " WHERE seen_epoch >= ? AND sketch IS NOT NULL ORDER BY seen_epoch",
            (_epoch(since),),
        )
        yield from rows

    def forget_sketches(self, before: str) -> int:
        with self.db:
            cursor = self.db.execute(
                "UPDATE stories SET sketch = NULL WHERE seen_epoch < ? AND sketch IS NOT NULL",
                (_epoch(before),),
            )
        return int(cursor.rowcount)

    def size(self) -> dict[str, int]:
        counts = {
            table: int(self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
            for table in ("stories", "fingerprints", "aliases", "pages")
        }
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        counts["bytes"] = self.path.stat().st_size
        return counts

    def close(self) -> None:
        self.db.close()


# Stories in, each unless the store has a newer version, or the same one seen later.
# ARGV holds (key, state JSON, version, last seen epoch, sketch or "") per story.
_PUT_STORIES = """
for i = 1, #ARGV, 5 do
  local key, version, epoch = ARGV[i], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  local current = redis.call('HGET', KEYS[1], key)
  local take = not current
  if current then
    local known = cjson.decode(current).version
    local seen = redis.call('ZSCORE', KEYS[3], key)
    take = known < version or (known == version and (not seen or tonumber(seen) <= epoch))
  end
  if take then
    redis.call('HSET', KEYS[1], key, ARGV[i + 1])
    if ARGV[i + 4] ~= '' then redis.call('HSET', KEYS[2], key, ARGV[i + 4]) end
    redis.call('ZADD', KEYS[3], epoch, key)
  end
end
"""


def _present(fields: list[str], values: list[Any]) -> dict[str, Any]:
    """HMGET's answer by field, without the fields it does not hold."""
    return {k: v for k, v in zip(fields, values, strict=True) if v is not None}


class RedisSeenStore(SeenStore):
    """The shared store: hashes under one key namespace in Redis."""

    def __init__(self, url: str, namespace: str) -> None:
        import redis

        self.redis = redis.Redis.from_url(url, **REDIS_TIMEOUTS)
        self.redis.ping()  # fail at start, with the URL in the error, not mid-crawl
        self.ns = namespace
        self._put_stories = self.redis.register_script(_PUT_STORIES)

    def _key(self, name: str) -> str:
        return f"{self.ns}:{name}"

    def _hmget(self, name: str, fields: Sequence[str]) -> dict[str, bytes]:
        found: dict[str, Any] = {}
        for start in range(0, len(fields), CHUNK):
            chunk = list(fields[start : start + CHUNK])
            found.update(_present(chunk, self.redis.hmget(self._key(name), chunk)))
        return found

    def stories(self, keys: Sequence[str]) -> dict[str, StoryState]:
        wanted = list(dict.fromkeys(keys))
        result: dict[str, StoryState] = {}
        for start in range(0, len(wanted), CHUNK):
            result.update(self._stories(wanted[start : start + CHUNK]))
        return result

    def _stories(self, wanted: list[str]) -> dict[str, StoryState]:
        pipe = self.redis.pipeline(transaction=False)
        self.ask_stories(pipe, wanted)
        return self.stories_answered(wanted, pipe.execute())

    def ask_stories(self, pipe: Any, wanted: list[str]) -> None:
        """Look ``wanted`` up in ``pipe``, a pipeline to this Redis that may carry other
        commands: the keys' aliases, and their stories and sketches as if none were an
        alias (most are not). Three answers, for ``stories_answered``."""
        for name in ("aliases", "stories", "sketches"):
            pipe.hmget(self._key(name), wanted)

    def stories_answered(self, wanted: list[str], answers: list[Any]) -> dict[str, StoryState]:
        """The stories ``ask_stories`` looked up, from its three answers; a second round
        trip only for the stories aliases name."""
        alias_values, story_values, sketch_values = answers
        aliases = {k: v.decode() for k, v in _present(wanted, alias_values).items()}
        found, sketches = _present(wanted, story_values), _present(wanted, sketch_values)
        named = [key for key in dict.fromkeys(aliases.values()) if key not in found]
        if named:
            pipe = self.redis.pipeline(transaction=False)
            pipe.hmget(self._key("stories"), named)
            pipe.hmget(self._key("sketches"), named)
            story_values, sketch_values = pipe.execute()
            found.update(_present(named, story_values))
            sketches.update(_present(named, sketch_values))
        result: dict[str, StoryState] = {}
        for key in wanted:
            value = found.get(aliases.get(key, key))
            if value is not None:
                data = json.loads(value)
                result[key] = StoryState(**data, sketch=sketches.get(data["key"]))
        return result

    def owners(self, fingerprints: Sequence[str]) -> dict[str, str]:
        found = self._hmget("fingerprints", list(dict.fromkeys(fingerprints)))
        return {k: v.decode() for k, v in found.items()}

    def pages(self, keys: Sequence[str]) -> dict[str, PageState]:
        found = self._hmget("pages", list(dict.fromkeys(keys)))
        return {k: PageState(**json.loads(v)) for k, v in found.items()}

    def committed_bytes(self, file_ids: Sequence[str]) -> dict[str, int]:
        found = self._hmget("files", list(dict.fromkeys(file_ids)))
        return {k: int(v) for k, v in found.items()}

    def forget_files(self, before: str) -> int:
        old = [_text(f) for f in self.redis.hkeys(self._key("files")) if _text(f) < before]
        for start in range(0, len(old), CHUNK):
            self.redis.hdel(self._key("files"), *old[start : start + CHUNK])
        return len(old)

    def commit(self, batch: Commit) -> None:
        if not batch:
            return
        pipe = self.redis.pipeline(transaction=True)  # MULTI/EXEC: all or nothing
        if batch.stories:
            args: list[Any] = []
            for s in batch.stories:
                plain = json.dumps({k: v for k, v in asdict(s).items() if k != "sketch"})
                args += [s.key, plain, s.version, _epoch(s.last_seen), s.sketch or b""]
            keys = [self._key("stories"), self._key("sketches"), self._key("seen")]
            self._put_stories(keys=keys, args=args, client=pipe)
        prints = list(batch.fingerprints)
        for fingerprint in prints:
            pipe.hsetnx(self._key("fingerprints"), fingerprint, batch.fingerprints[fingerprint])
        if prints:
            pipe.hmget(self._key("fingerprints"), prints)
        if batch.aliases:
            pipe.hset(self._key("aliases"), mapping=batch.aliases)  # type: ignore[arg-type]
        if batch.pages:
            pages = {p.key: json.dumps(asdict(p)) for p in batch.pages}
            pipe.hset(self._key("pages"), mapping=pages)  # type: ignore[arg-type]
        if batch.files:
            pipe.hset(self._key("files"), mapping=batch.files)  # type: ignore[arg-type]
        done = pipe.execute()
        if prints:
            held = done[len(prints) + (1 if batch.stories else 0)]  # the HMGET's answer
            batch.owners = {k: v.decode() for k, v in _present(prints, held).items()}

    def sketches(self, since: str) -> Iterator[tuple[str, str, bytes]]:
        found: Any = self.redis.zrangebyscore(self._key("seen"), _epoch(since), "+inf")
        keys = [_text(k) for k in found]
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start : start + CHUNK]
            sketches = self._hmget("sketches", chunk)
            states = self._hmget("stories", [k for k in chunk if k in sketches])
            for key, data in states.items():
                yield key, json.loads(data)["last_seen"], sketches[key]

    def forget_sketches(self, before: str) -> int:
        found: Any = self.redis.zrangebyscore(self._key("seen"), "-inf", f"({_epoch(before)}")
        keys = [_text(k) for k in found]
        for start in range(0, len(keys), CHUNK):
            self.redis.hdel(self._key("sketches"), *keys[start : start + CHUNK])
        return len(keys)

    def size(self) -> dict[str, int]:
        counts = {
            name: int(self.redis.hlen(self._key(name)))
            for name in ("stories", "fingerprints", "aliases", "pages")
        }
        used = 0
        for name in ("stories", "fingerprints", "aliases", "pages", "sketches", "seen"):
            used += int(self.redis.memory_usage(self._key(name)) or 0)
        counts["bytes"] = used
        return counts

    def close(self) -> None:
        self.redis.close()


def open_store(
    url: str, *, default_path: Path, namespace: str, base: Path | None = None
) -> SeenStore:
    """The store a setting names: ``""`` or ``sqlite:///path``, or ``redis://host:port/db``.

    A relative SQLite path (``sqlite:///seen.sqlite3``, ``sqlite:///state/seen.sqlite3``)
    is relative to ``base``, the output folder, never to the working directory: the same
    setting names the same store wherever the crawl is started from. An absolute one is
    written with four slashes (``sqlite:////var/lib/newscrawl/seen.sqlite3``).
    """
    if not url:
        return SqliteSeenStore(default_path)
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        rest = url.removeprefix("sqlite://")
        if not rest.startswith("/") or rest == "/":
            raise ValueError(
                f"NEWSCRAWL_SEEN_STORE={url!r}: expected sqlite:///PATH (relative to the "
                "output folder) or sqlite:////ABSOLUTE/PATH"
            )
        path = Path(rest[1:])
        if not path.is_absolute() and base is not None:
            path = base / path
        return SqliteSeenStore(path)
    if scheme in ("redis", "rediss", "unix"):
        return RedisSeenStore(url, namespace)
    raise ValueError(
        f"NEWSCRAWL_SEEN_STORE={url!r}: unknown store (use sqlite:///PATH or redis://HOST)"
    )
